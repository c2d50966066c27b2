"""Errors the tool reports to its user: each says what is wrong and how to fix it."""

from __future__ import annotations


class MoeenSynthError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""

    exit_code = 1


class UsageError(MoeenSynthError):
    """Bad input from the user: an option, a file, an environment variable."""

    exit_code = 2


class ProfileError(UsageError):
    """A profile that does not validate; carries every problem found, each with its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"profile {source} is invalid ({len(problems)} problem(s)):\n{lines}")


class SchemaError(MoeenSynthError):
    """The target database's schema is not one moeen-synth can load into."""


class LoadError(MoeenSynthError):
    """A load failed; the database was rolled back to how it was before."""


class TargetNotEmptyError(MoeenSynthError):
    """The target already holds generated rows and neither --truncate nor --append was given."""
