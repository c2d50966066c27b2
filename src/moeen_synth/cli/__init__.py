"""The ``moeen-synth`` command: parses options and calls one job; no logic of its own."""

# _allocators first: it sets the allocators before polars and pyarrow are imported.
# The group lives in cli.main; importing cli.commands adds the subcommands to it.
from moeen_synth.cli import _allocators  # noqa: F401
from moeen_synth.cli import fixtures as _fixtures  # noqa: F401  (adds `fixtures`)
from moeen_synth.cli import report as _report  # noqa: F401  (adds `report`)
from moeen_synth.cli.commands import main as main
