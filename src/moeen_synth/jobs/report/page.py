"""The report as one self-contained HTML page (plotly.js inlined once, no request leaves it)
with the same content in Arabic (right to left) and English, and the verdicts as JSON."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from moeen_synth import __version__
from moeen_synth.jobs.report import charts
from moeen_synth.jobs.report.labels import LANGUAGES, Labels
from moeen_synth.jobs.report.sources import Measured
from moeen_synth.jobs.report.targets import Target
from moeen_synth.vocab import load as load_vocab

COUNTS = {"table_rows", "check"}  # targets that are row counts, not shares
NUMBERS = {"visits_per_patient"}
STYLE = """
body{font-family:"Noto Sans Arabic","Noto Sans","DejaVu Sans",sans-serif;margin:0;
     background:#f5f7f8;color:#1c2b33}
header{background:#0b4f6c;color:#fff;padding:16px 24px;display:flex;gap:24px;
       align-items:center;flex-wrap:wrap}
header h1{font-size:22px;margin:0;flex:1 1 auto}
header dl{display:flex;gap:16px;margin:0;font-size:13px}
header dt{opacity:.75} header dd{margin:0 0 0 4px;font-weight:600}
button{font:inherit;padding:6px 14px;border-radius:6px;border:0;cursor:pointer}
main{padding:16px 24px}
section.part{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 16px;
             box-shadow:0 1px 2px rgba(0,0,0,.08)}
section.part h2{font-size:18px;margin:4px 0 12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}
.grid>*{min-width:0}
.chart{direction:ltr;min-height:360px;overflow:hidden}
table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e8eb;text-align:start}
td.num{font-variant-numeric:tabular-nums;direction:ltr;unicode-bidi:isolate}
tr.fail td{background:#fdecea;color:#b71c1c;font-weight:600}
.ok{color:#2e7d32;font-weight:600} .bad{color:#c62828;font-weight:700}
.summary{font-size:16px;margin:0 0 12px}
[hidden]{display:none!important}
"""
SWITCH = """
function moeenShow(lang){
  const root=document.documentElement; root.lang=lang; root.dir=lang==='ar'?'rtl':'ltr';
  for(const part of document.querySelectorAll('[data-lang]')) part.hidden=part.dataset.lang!==lang;
  window.dispatchEvent(new Event('resize'));
}
"""

SECTIONS = ("patients", "appointments", "money", "notices", "people", "clinical", "rows", "checks")


def _value(target: Target, value: float) -> str:
    if value == math.inf:
        return "∞"
    if target.label in COUNTS:
        return f"{value:,.0f}"
    if target.label in NUMBERS:
        return f"{value:,.2f}"
    return f"{value:.1%}"


def _table(targets: Sequence[Target], labels: Labels) -> str:
    head = "".join(
        f"<th>{html.escape(labels(key))}</th>"
        for key in ("what", "item", "measured", "target", "range", "rows_behind", "verdict")
    )
    rows = []
    for t in targets:
        verdict = labels("pass") if t.ok else labels("fail")
        rows.append(
            f'<tr class="{"pass" if t.ok else "fail"}">'
            f"<td>{html.escape(labels(t.label))}</td>"
            f"<td>{html.escape(labels.item(t.item))}</td>"
            f'<td class="num">{_value(t, t.measured)}</td>'
            f'<td class="num">{_value(t, t.expected)}</td>'
            f'<td class="num">{_value(t, t.low)} – {_value(t, t.high)}</td>'
            f'<td class="num">{t.n:,}</td>'
            f'<td class="{"ok" if t.ok else "bad"}">{html.escape(verdict)}</td></tr>'
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class Page:
    """Collects the charts of both languages; plotly.js goes into the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def chart(self, fig: go.Figure, name: str) -> str:
        first = self.count == 0
        self.count += 1
        drawn: str = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=first,
            div_id=name,
            config={"displaylogo": False, "responsive": True},
            post_script="document.getElementById('{plot_id}').dataset.drawn = '1';",
        )
        return f'<div class="chart">{drawn}</div>'


def _of(targets: Sequence[Target], section: str, label: str | None = None) -> list[Target]:
    return [t for t in targets if t.section == section and (label is None or t.label == label)]


def _diagnoses(m: Measured, labels: Labels) -> str:
    """The five most frequent diagnoses of each speciality, in the page's language."""
    vocab = load_vocab()
    name = {row["icd10"]: row[f"name_{labels.language}"] for row in vocab.diagnoses}
    frame = m.frames["diagnoses"].sort(["speciality", "n", "code"], descending=[False, True, False])
    top = frame.group_by("speciality", maintain_order=True).head(5)
    rows = [
        f"<tr><td>{html.escape(labels.item(str(s)))}</td>"
        f"<td>{html.escape(name.get(str(c), str(c)))} ({html.escape(str(c))})</td>"
        f'<td class="num">{int(n):,}</td></tr>'
        for s, c, n in top.select("speciality", "code", "n").iter_rows()
    ]
    return (
        f"<h3>{html.escape(labels('chart.diagnoses'))}</h3><table><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _language(m: Measured, targets: Sequence[Target], language: str, page: Page) -> str:
    labels = Labels(language)
    ids = iter(range(1000))

    def chart(fig: go.Figure) -> str:
        return page.chart(fig, f"chart-{language}-{next(ids)}")

    def shares(section: str, label: str) -> str:
        return chart(charts.shares(_of(targets, section, label), labels, labels(label)))

    mean = m.profile.tables.appointments.per_patient
    saudi = _of(targets, "people", "saudi_share")[0]
    people = [
        Target(t.section, t.label, t.label, t.measured, t.low, t.high, t.expected, t.n)
        for t in _of(targets, "people")
    ]
    body = {
        "patients": [chart(charts.pyramid(m, labels))],
        "appointments": [
            chart(charts.heatmap(m, labels)),
            shares("appointments", "past_status"),
            shares("appointments", "future_status"),
            shares("appointments", "visit_type"),
            chart(charts.visits(m, labels, mean)),
        ],
        "money": [
            shares("money", "self_pay_method"),
            shares("money", "claim_outcome"),
            chart(charts.insurers(_of(targets, "money", "approved_ratio"), labels)),
        ],
        "notices": [shares("notices", "notice_share")],
        "people": [
            chart(charts.shares(people, _Named(labels), labels("section.people"))),
            chart(charts.nationalities(m, labels, saudi)),
        ],
        "clinical": [],
        "rows": [chart(charts.table_rows(_of(targets, "rows"), labels))],
        "checks": [],
    }
    parts = []
    for section in SECTIONS:
        found = _of(targets, section)
        extra = ""
        if section == "clinical":
            extra = _diagnoses(m, labels)
        if section == "checks" and m.checks is None:
            extra = f"<p>{html.escape(labels('no_checks'))}</p>"
        grid = f'<div class="grid">{"".join(body[section])}</div>' if body[section] else ""
        parts.append(
            f'<section class="part" id="{section}-{language}">'
            f"<h2>{html.escape(labels('section.' + section))}</h2>"
            f"{grid}{extra}{_table(found, labels) if found else ''}</section>"
        )
    failed = [t for t in targets if not t.ok]
    summary = (
        f'<p class="summary"><span class="{"bad" if failed else "ok"}">'
        f"{len(targets) - len(failed):,} / {len(targets):,}</span> "
        f"{html.escape(labels('targets_met'))}</p>"
    )
    failures = _table(failed, labels) if failed else ""
    notes = "".join(f'<p class="bad">{html.escape(note)}</p>' for note in m.notes)
    return summary + notes + failures + "".join(parts)


class _Named(Labels):
    """Labels whose items are label keys (the people targets name themselves)."""

    def __init__(self, labels: Labels) -> None:
        super().__init__(labels.language)

    def item(self, name: str) -> str:
        return self(name)


def html_page(m: Measured, targets: Sequence[Target], language: str = "ar") -> str:
    page = Page()
    blocks = []
    for lang in LANGUAGES:
        labels = Labels(lang)
        other = "en" if lang == "ar" else "ar"
        facts = [
            ("source", m.source),
            ("profile", m.profile.name),
            ("as_of", m.profile.as_of.isoformat()),
        ]
        header = (
            f'<header data-lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}"'
            f"{'' if lang == language else ' hidden'}>"
            f"<h1>{html.escape(labels('title'))}</h1><dl>"
            + "".join(
                f"<div><dt>{html.escape(labels(k))}</dt><dd><bdi>{html.escape(v)}</bdi></dd></div>"
                for k, v in facts
            )
            + f'</dl><button type="button" onclick="moeenShow(\'{other}\')">'
            f"{html.escape(labels('switch'))}</button></header>"
        )
        main = (
            f'<main data-lang="{lang}" lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}"'
            f"{'' if lang == language else ' hidden'}>{_language(m, targets, lang, page)}</main>"
        )
        blocks.append(header + main)
    direction = "rtl" if language == "ar" else "ltr"
    return (
        f'<!doctype html><html lang="{language}" dir="{direction}"><head><meta charset="utf-8">'
        f'<meta name="generator" content="moeen-synth {__version__}">'
        f"<title>{html.escape(Labels(language)('title'))} · {html.escape(m.profile.name)}</title>"
        f"<style>{STYLE}</style><script>{SWITCH}</script></head><body>"
        + "".join(blocks)
        + "</body></html>"
    )


def as_json(m: Measured, targets: Sequence[Target]) -> dict[str, Any]:
    return {
        "source": m.source,
        "profile": m.profile.name,
        "as_of": m.profile.as_of.isoformat(),
        "ok": all(t.ok for t in targets),
        "failed": sum(not t.ok for t in targets),
        "targets": [t.as_json() for t in targets],
        "rows": m.rows,
        "notes": m.notes,
    }
