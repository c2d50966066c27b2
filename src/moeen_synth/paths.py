"""Where the shipped profiles and migrations are, and where outputs go."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parent.parent  # src/moeen_synth -> project root, in a source checkout


def _shipped(name: str) -> Path:
    # A wheel carries them under _bundled/; an editable install or a checkout has them at top.
    bundled = _PACKAGE / "_bundled" / name
    return bundled if bundled.is_dir() else _REPO / name


def profiles_dir() -> Path:
    return _shipped("profiles")


def schema_dir() -> Path:
    return _shipped("schema")


def outputs_dir() -> Path:
    """``MOEEN_SYNTH_OUTPUTS`` if set, else ``outputs/`` in the current directory."""
    return Path(os.environ.get("MOEEN_SYNTH_OUTPUTS", "outputs")).resolve()
