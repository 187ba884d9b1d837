"""Altair charts and tables of the Compare page, built from `analysis.compare` output."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from predictions_core.analysis.compare import Agreement

MAX_UPSET_BARS = 20


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    """The summary table: one row per classifier, readable column names."""
    frame = pd.DataFrame(rows)
    return frame.rename(
        columns={
            "classifier": "Classifier",
            "name": "Name",
            "date": "Date",
            "passages": "Passages in file",
            "positives": "Positives",
            "spans": "Spans",
            "share_positive": "Share positive",
            "spans_per_positive": "Spans per positive",
            "lists_negatives": "Lists negatives",
        }
    )


def agreement_frame(ids: Sequence[str], agreements: list[Agreement]) -> pd.DataFrame:
    """Long form for the heat map: both orders of each pair, and the diagonal."""
    rows = []
    for item in ids:
        rows.append({"a": item, "b": item, "jaccard": 1.0, "kappa": 1.0, "n_both": None})
    for pair in agreements:
        for a, b in ((pair.a, pair.b), (pair.b, pair.a)):
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "jaccard": pair.jaccard,
                    "kappa": pair.kappa,
                    "n_both": pair.n_both,
                }
            )
    return pd.DataFrame(rows)


def heatmap(frame: pd.DataFrame, measure: str, ids: Sequence[str]) -> alt.Chart:
    """Pairwise agreement (`jaccard` or `kappa`) as coloured cells with the value written in."""
    data = frame.assign(label=frame[measure].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}"))
    domain = [0, 1] if measure == "jaccard" else [-1, 1]
    scheme = "blues" if measure == "jaccard" else "redblue"
    base = alt.Chart(data).encode(
        x=alt.X(
            "a:N", sort=list(ids), title=None, axis=alt.Axis(labelAngle=-30, labelOverlap=False)
        ),
        y=alt.Y("b:N", sort=list(ids), title=None, axis=alt.Axis(labelOverlap=False)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            f"{measure}:Q",
            scale=alt.Scale(domain=domain, scheme=scheme),
            title="Jaccard" if measure == "jaccard" else "Cohen's κ",
        ),
        tooltip=["a", "b", alt.Tooltip(f"{measure}:Q", format=".3f"), "n_both"],
    )
    text = base.mark_text(fontSize=13).encode(
        text="label:N",
        color=alt.condition(
            f"datum.{measure} > 0.6 || datum.{measure} < -0.6",
            alt.value("white"),
            alt.value("black"),
        ),
    )
    side = 70 * max(2, len(ids))
    return (cells + text).properties(width=side, height=side)


def upset(intersections: list[tuple[tuple[str, ...], int]], ids: Sequence[str]) -> alt.Chart:
    """UpSet-style: a bar per combination of classifiers, and the dot matrix saying which."""
    shown = intersections[:MAX_UPSET_BARS]
    combos = [" + ".join(members) for members, _ in shown]
    bars = pd.DataFrame({"combination": combos, "passages": [count for _, count in shown]})
    dots = pd.DataFrame(
        [
            {"combination": combo, "classifier": item, "member": item in members}
            for combo, (members, _) in zip(combos, shown, strict=True)
            for item in ids
        ]
    )
    x = alt.X("combination:N", sort=combos, axis=None)
    top = (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("passages:Q", title="Positive passages"),
            tooltip=["combination", "passages"],
        )
    )
    labels = top.mark_text(dy=-6).encode(text="passages:Q")
    matrix = (
        alt.Chart(dots)
        .mark_circle(size=120)
        .encode(
            x=x,
            y=alt.Y("classifier:N", sort=list(ids), title=None),
            color=alt.condition("datum.member", alt.value("#444"), alt.value("#ddd")),
            tooltip=["combination"],
        )
    )
    width = max(240, 46 * len(combos))
    return alt.vconcat(
        (top + labels).properties(width=width, height=200),
        matrix.properties(width=width, height=28 * len(ids)),
        spacing=4,
    )


def breakdown_chart(frame: pd.DataFrame, column: str) -> alt.Chart:
    """Positives per value of `column`: grouped bars (region, corpus) or lines (year)."""
    if column == "year":
        years = frame[frame["value"] != "(none)"].assign(year=lambda f: f["value"].astype(int))
        return (
            alt.Chart(years)
            .mark_line(point=True)
            .encode(
                x=alt.X("year:O", title="Publication year"),
                y=alt.Y("positives:Q", title="Positive passages"),
                color=alt.Color("classifier:N", title="Classifier"),
                tooltip=["classifier", "year", "positives"],
            )
            .properties(height=280)
        )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("value:N", title=None, sort="-x"),
            x=alt.X("positives:Q", title="Positive passages"),
            yOffset="classifier:N",
            color=alt.Color("classifier:N", title="Classifier"),
            tooltip=["classifier", "value", "positives"],
        )
        .properties(height=alt.Step(12))
    )
