"""The report's charts (plotly figures), each beside the profile's targets, in one language."""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from moeen_synth.jobs.report.labels import Labels
from moeen_synth.jobs.report.sources import Measured
from moeen_synth.jobs.report.targets import SLOT_MINUTES, WORK_DAYS, Target, adult_band_shares
from moeen_synth.profile import age_band, clock_minutes

PASS, FAIL, TARGET, MEN, WOMEN = "#2e7d32", "#c62828", "#263238", "#1565c0", "#ad1457"
FONT = "Noto Sans Arabic, Noto Sans, DejaVu Sans, sans-serif"


def _label(text: str) -> str:
    """Text from the data as a plotly label: plotly reads tags in labels (<b>, <a href>)."""
    return html.escape(text, quote=False)


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        template="plotly_white",
        font={"family": FONT, "size": 12},
        height=height,
        margin={"l": 60, "r": 30, "t": 50, "b": 60},
        legend={"orientation": "h", "y": -0.2},
    )
    # No vertical axis titles: plotly sets rotated Arabic titles over the tick labels, and
    # the chart's title and ticks (percentages, days, bands) already say what is counted.
    fig.update_xaxes(automargin=True, title_standoff=6)
    fig.update_yaxes(automargin=True, title=None)
    return fig


def shares(targets: Sequence[Target], labels: Labels, title: str) -> go.Figure:
    """Measured shares (green: in range, red: not) beside the targets and their ranges."""
    names = [_label(labels.item(t.item)) for t in targets]
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=[t.measured for t in targets],
        name=labels("legend.measured"),
        marker_color=[PASS if t.ok else FAIL for t in targets],
        text=[f"{t.measured:.1%}" for t in targets],
        textposition="outside",
    )
    fig.add_scatter(
        x=names,
        y=[t.expected for t in targets],
        mode="markers",
        name=labels("legend.target"),
        marker={"symbol": "diamond", "size": 11, "color": TARGET},
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [t.high - t.expected for t in targets],
            "arrayminus": [t.expected - t.low for t in targets],
        },
    )
    fig.update_yaxes(title=labels("axis.share"), tickformat=".0%", rangemode="tozero")
    return _layout(fig, title)


def pyramid(m: Measured, labels: Labels) -> go.Figure:
    """Patients by the profile's age bands (children first) and sex: men to the left, women
    to the right; the diamonds are what the profile's shares make of the same total."""
    settings = m.profile.tables.patients
    ages = m.frames["ages"]
    total = int(ages["n"].sum())
    bands = [("0-17", 0, 18, settings.child_share)]
    bands += [
        (band, *age_band(band), (1 - settings.child_share) * share)
        for band, share in adult_band_shares(m.profile).items()
    ]
    names = [labels("children") + " 0-17", *list(settings.adult_ages)]
    fig = go.Figure()
    for sex, sign, colour, share in (
        ("male", -1, MEN, 1 - settings.female_share),
        ("female", 1, WOMEN, settings.female_share),
    ):
        counts = [
            int(
                ages.filter((pl.col("gender") == sex) & pl.col("age").is_between(lo, hi - 1))[
                    "n"
                ].sum()
            )
            for _, lo, hi, _ in bands
        ]
        fig.add_bar(
            y=names,
            x=[sign * c for c in counts],
            orientation="h",
            name=labels("legend.men" if sex == "male" else "legend.women"),
            marker_color=colour,
            customdata=counts,
            hovertemplate="%{y}: %{customdata}<extra></extra>",
        )
        fig.add_scatter(
            y=names,
            x=[sign * total * band_share * share for *_, band_share in bands],
            mode="markers",
            name=labels("legend.target"),
            marker={"symbol": "diamond", "size": 10, "color": TARGET},
            showlegend=sex == "male",
        )
    fig.update_layout(barmode="relative", bargap=0.15)
    widest = max([abs(v) for trace in fig.data for v in trace.x] or [1])
    ticks = _nice_ticks(widest)
    fig.update_xaxes(
        title=labels("axis.patients"),
        tickvals=[-t for t in reversed(ticks[1:])] + ticks,
        ticktext=[f"{t:,}" for t in reversed(ticks[1:])] + [f"{t:,}" for t in ticks],
    )
    fig.update_yaxes(title=labels("axis.age"))
    return _layout(fig, labels("chart.pyramid"), height=420)


def _nice_ticks(widest: float) -> list[int]:
    """0 and four round steps up to about ``widest`` (both sides of the pyramid use them)."""
    raw = max(widest, 1) / 4
    power = 10 ** max(0, len(str(int(raw))) - 1)
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [int(step * k) for k in range(5)]


def heatmap(m: Measured, labels: Labels) -> go.Figure:
    """Appointments per weekday and hour in Riyadh time; the boxes are the doctors' shifts
    on the clinic days."""
    times = m.frames["visit_times"]
    grid = [[0] * 24 for _ in range(7)]
    for dow, minute, n in times.select("dow", "minute", "n").iter_rows():
        grid[int(dow)][int(minute) // 60] += int(n)
    days = [labels(f"day.{d}") for d in range(7)]
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=list(range(24)),
            y=days,
            colorscale="Blues",
            hovertemplate="%{y} %{x}:00 — %{z}<extra></extra>",
            colorbar={"title": labels("axis.visits")},
        )
    )
    first, last = min(WORK_DAYS), max(WORK_DAYS)
    for shift in m.profile.tables.doctors.shifts.values():
        opens = clock_minutes(shift.start) / 60
        closes = (clock_minutes(shift.end) - SLOT_MINUTES) / 60 + 0.5
        fig.add_shape(
            type="rect",
            x0=opens - 0.5,
            x1=closes,
            y0=first - 0.5,
            y1=last + 0.5,
            line={"color": TARGET, "width": 2, "dash": "dot"},
        )
    fig.update_xaxes(title=labels("axis.hour"), dtick=2)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, labels("chart.heatmap") + " · " + labels("chart.shifts"), height=380)


def visits(m: Measured, labels: Labels, mean_target: float | None) -> go.Figure:
    frame = m.frames["visits_per_patient"].sort("visits")
    fig = go.Figure()
    fig.add_bar(
        x=frame["visits"].to_list(),
        y=frame["patients"].to_list(),
        name=labels("axis.patients"),
        marker_color=MEN,
    )
    if mean_target is not None:
        fig.add_vline(
            x=mean_target,
            line={"color": TARGET, "dash": "dash"},
            annotation_text=labels("legend.mean_target"),
        )
    fig.update_xaxes(title=labels("axis.visits"))
    fig.update_yaxes(title=labels("axis.patients"))
    return _layout(fig, labels("chart.visits"))


def nationalities(m: Measured, labels: Labels, saudi: Target) -> go.Figure:
    users = m.frames["people"]
    total = max(1, int(users["n"].sum()))
    top = (
        users.group_by("nationality")
        .agg(pl.col("n").sum())
        .sort(["n", "nationality"], descending=[True, False])
        .head(10)
    )
    fig = go.Figure()
    fig.add_bar(
        x=[_label(str(code)) for code in top["nationality"].to_list()],
        y=[int(n) / total for n in top["n"].to_list()],
        name=labels("legend.measured"),
        marker_color=[PASS if saudi.ok or c != "SA" else FAIL for c in top["nationality"]],
    )
    fig.add_scatter(
        x=["SA"],
        y=[saudi.expected],
        mode="markers",
        name=labels("legend.target"),
        marker={"symbol": "diamond", "size": 11, "color": TARGET},
        error_y={"type": "data", "array": [saudi.high - saudi.expected]},
    )
    fig.update_yaxes(title=labels("axis.share"), tickformat=".0%")
    return _layout(fig, labels("chart.nationality"))


def insurers(targets: Sequence[Target], labels: Labels) -> go.Figure:
    """Approved to claimed per insurer (horizontal: insurers' names are long), beside the
    profile's coverage."""
    fig = go.Figure()
    fig.add_bar(
        y=[_label(labels.item(t.item)) for t in targets],
        x=[t.measured for t in targets],
        orientation="h",
        name=labels("legend.measured"),
        marker_color=[PASS if t.ok else FAIL for t in targets],
        text=[f"{t.measured:.1%}" for t in targets],
        textposition="auto",
    )
    if targets:
        fig.add_vline(
            x=targets[0].expected,
            line={"color": TARGET, "dash": "dash"},
            annotation_text=labels("legend.coverage"),
            annotation_position="bottom left",
        )
    fig.update_xaxes(title=labels("axis.ratio"), tickformat=".0%", range=[0, 1.05])
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, labels("chart.insurers"), height=420)


def table_rows(targets: Sequence[Target], labels: Labels) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(
        y=[_label(t.item) for t in targets],
        x=[max(t.measured, 0.5) for t in targets],
        orientation="h",
        name=labels("legend.measured"),
        marker_color=[PASS if t.ok else FAIL for t in targets],
    )
    fig.add_scatter(
        y=[_label(t.item) for t in targets],
        x=[max(t.expected, 0.5) for t in targets],
        mode="markers",
        name=labels("legend.plan"),
        marker={"symbol": "line-ns-open", "size": 16, "color": TARGET},
    )
    fig.update_xaxes(type="log", title=labels("axis.rows"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, labels("chart.rows"), height=560)
