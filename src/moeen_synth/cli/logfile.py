"""A log file per command that changes a target: under outputs/logs/, time-stamped, with what
the library logs (statements applied, tables loaded, timings) and the outcome."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from moeen_synth import __version__, paths
from moeen_synth.cli.options import err, out_console

LOGGER = "moeen_synth"


@contextmanager
def command_log(step: str, target: str) -> Iterator[Path]:
    """Log ``step`` on ``target`` (an address with its password masked) to a new file; the
    outcome is its last line, failures included."""
    folder = paths.outputs_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    path = folder / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{step}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    started = time.perf_counter()
    logger.info("moeen-synth %s: %s on %s", __version__, step, target)
    try:
        yield path
    except BaseException as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.error("outcome: failed after %.2f s: %s", time.perf_counter() - started, reason)
        raise
    else:
        logger.info("outcome: ok in %.2f s", time.perf_counter() - started)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()


@contextmanager
def logged(step: str, target: str, *, quiet: bool = False) -> Iterator[Path]:
    """``command_log``, and say where the log is: after the work, or after a failure."""
    with command_log(step, target) as path:
        try:
            yield path
        except BaseException:
            err.print(f"log: {path}", highlight=False, soft_wrap=True)
            raise
    if not quiet:
        out_console.print(f"log: {path}", highlight=False, soft_wrap=True)
