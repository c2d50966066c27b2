"""``moeen-synth report``: the same numbers from a database and from its Parquet export, a
failing target in red with exit status 1, and the page rendered by a real headless chromium
(Debian's package, installed by .ci/run): no console error, every chart drawn, no request
leaving the page."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from click.testing import CliRunner

from moeen_synth import catalogue, paths
from moeen_synth.cli import main
from moeen_synth.jobs import export as export_job
from moeen_synth.jobs import load as load_job
from moeen_synth.jobs import report as report_job
from tests.dbtools import clinic

CHROMIUM = shutil.which("chromium") or "/usr/lib/chromium/chromium"
ALLOWED = ("file:", "data:", "blob:", "about:")
SCALE = 1500  # patients: a clinic small enough to load in seconds, big enough for every mix


@pytest.fixture(scope="module")
def loaded(
    module_db: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """A clinic loaded into a database, and the same clinic exported as Parquet."""
    dsn = module_db()
    with psycopg.connect(dsn, autocommit=True) as conn:
        load_job.load(conn, clinic(SCALE))
    out = tmp_path_factory.mktemp("export")
    export_job.export(clinic(SCALE), out, ["parquet"], force=True)
    return dsn, out


def test_the_database_and_its_export_measure_the_same(loaded: tuple[str, Path]) -> None:
    dsn, directory = loaded
    with psycopg.connect(dsn, autocommit=True) as conn:
        from_db = report_job.build(report_job.from_database(conn, None))
    from_files = report_job.build(report_job.from_files(directory, None))

    def measured(report: report_job.Report) -> dict[tuple[str, str, str], float]:
        return {(t.section, t.label, t.item): round(t.measured, 9) for t in report.targets}

    # The database also holds the platform's own reference rows and the checks' results.
    generated = {("rows", "table_rows", table) for table in catalogue.GENERATED}

    def comparable(found: dict[tuple[str, str, str], float]) -> dict[tuple[str, str, str], float]:
        return {k: v for k, v in found.items() if k[0] not in ("rows", "checks") or k in generated}

    assert comparable(measured(from_db)) == comparable(measured(from_files))
    assert from_db.ok, [(t.label, t.item, t.measured) for t in from_db.failed]
    assert any(t.section == "checks" for t in from_db.targets)


def test_a_target_the_data_cannot_meet_fails_in_red_with_status_1(
    loaded: tuple[str, Path], tmp_path: Path
) -> None:
    _, directory = loaded
    wrong = yaml.safe_load((paths.profiles_dir() / "clinic.yaml").read_text())
    wrong["scale"] = SCALE
    wrong["tables"]["appointments"]["past_status"] = {
        "completed": 0.5,
        "no_show": 0.4,
        "cancelled": 0.1,
    }
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(wrong))
    page = tmp_path / "report.html"

    result = CliRunner().invoke(
        main, ["report", str(directory), "--profile", str(path), "--out", str(page), "--json"]
    )

    assert result.exit_code == 1, result.output
    verdicts = json.loads(result.output)
    failed = {(t["label"], t["item"]) for t in verdicts["targets"] if not t["ok"]}
    assert {("past_status", "completed"), ("past_status", "no_show")} <= failed
    # That profile would also have planned other numbers of child rows; nothing else fails.
    assert {label for label, _ in failed} == {"past_status", "table_rows"}
    assert not verdicts["ok"]
    text = page.read_text(encoding="utf-8")
    assert (
        text.count('<tr class="fail">') >= 4
    )  # each failure in its section and the summary, per language


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("MOEEN_REQUIRE_BROWSER"):
            pytest.fail(f"no chromium at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        yield launched
        launched.close()


DRAWN = """() => [...document.querySelectorAll('.chart')].map(chart => {
  const svg = chart.querySelector('svg.main-svg'), canvas = chart.querySelector('canvas');
  return (!!svg && svg.querySelectorAll('path, rect').length > 2)
      || (!!canvas && canvas.width > 0 && canvas.height > 0); })"""


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_page_renders_in_a_real_browser(
    loaded: tuple[str, Path], browser: Any, tmp_path: Path, language: str
) -> None:
    _, directory = loaded
    report = report_job.build(report_job.from_files(directory, None))
    page_path = report_job.write(report, tmp_path / "report.html", language)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    requests: list[str] = []
    errors: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(ALLOWED)
            else (requests.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_function(f"({DRAWN})().every(Boolean)", timeout=30_000)
    drawn = page.evaluate(DRAWN)
    direction = page.evaluate("document.documentElement.dir")
    shot = Path(os.environ.get("MOEEN_REPORT_SCREENSHOTS", tmp_path))
    shot.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot / f"report-{language}.png"), full_page=True)
    page.click("header:not([hidden]) button")  # the other language
    switched = page.evaluate("document.documentElement.dir")
    context.close()

    assert len(drawn) >= 24 and all(drawn), drawn  # 12 charts in each language
    assert not errors, errors
    assert all(url.startswith(ALLOWED) for url in requests), requests
    assert direction == ("rtl" if language == "ar" else "ltr")
    assert switched == ("ltr" if language == "ar" else "rtl")
