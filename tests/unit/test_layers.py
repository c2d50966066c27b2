"""The import contracts list every module they must: a table module or job left out of its
independence contract could import another without CI noticing."""

from __future__ import annotations

import tomllib
from pathlib import Path

from moeen_synth import generators

SRC = Path(generators.__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((SRC.parent.parent / "pyproject.toml").read_text("utf-8"))["tool"][
    "importlinter"
]["contracts"]


def _independent(package: str) -> set[str]:
    for contract in CONTRACTS:
        modules = set(contract.get("modules", []))
        if contract["type"] == "independence" and any(m.startswith(package) for m in modules):
            return modules
    return set()


def _modules(folder: str) -> set[str]:
    """The modules and subpackages directly in ``folder``."""
    return {
        f"moeen_synth.{folder}.{path.stem}"
        for path in (SRC / folder).iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py")
        or (path.is_dir() and (path / "__init__.py").is_file())
    }


def test_every_table_module_is_in_the_registry_and_the_contract() -> None:
    registered = {module.__name__ for module in generators.MODULES}

    assert _modules("generators") == registered, (
        "every module in generators/ must give a table in generators.REGISTRY"
    )
    assert _independent("moeen_synth.generators.") == registered, (
        "pyproject.toml: the 'Table modules share the models' contract must list every module"
    )


def test_every_job_is_in_the_independence_contract() -> None:
    assert _independent("moeen_synth.jobs.") == _modules("jobs")


def test_every_census_a_table_declares_is_collected() -> None:
    declared = {name for module in generators.MODULES for name in getattr(module, "CENSUS", {})}

    assert declared == set(generators.CENSUS)
    assert {"payments", "medical_records", "notice.claim"} <= declared
