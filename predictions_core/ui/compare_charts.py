"""Altair charts and tables of the Compare page, built from `analysis.compare` output.

Classifiers appear by their short names (`ConceptEntry.short_names`), ids only in tooltips
and a table column. Colours work on Streamlit's light and dark themes alike: marks that
sit on the page background use the theme's own colours or a mid-tone readable on both
(`NEUTRAL`, `ACCENT`); black or white text appears only on heat-map cells, whose fill does
not change with the theme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from predictions_core.analysis.compare import Agreement

MAX_UPSET_BARS = 20
# a heat-map cell holds "-0.25" at 13 px with room to spare, and a label per row/column
CELL_PX = 64
AXIS_LABEL_LIMIT = 180
# mid-tones with a contrast of at least 3:1 on white and on Streamlit's dark background
NEUTRAL = "#7d8391"
ACCENT = "#3d8ee0"
# "pad": the chart is as large as its cells plus labels; Streamlit's default ("fit") would
# squeeze everything, labels included, into the given width and leave a sliver of cells
_NATURAL_SIZE = alt.AutoSizeParams(type="pad")


def _name(names: Mapping[str, str] | None, classifier_id: str) -> str:
    return (names or {}).get(classifier_id, classifier_id)


def summary_frame(rows: list[dict], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The summary table: one row per classifier (short name first), readable column names."""
    frame = pd.DataFrame(rows)
    frame.insert(0, "short", [_name(names, cid) for cid in frame["classifier"]])
    return frame.rename(
        columns={
            "short": "Classifier",
            "classifier": "Id",
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


def agreement_frame(
    ids: Sequence[str], agreements: list[Agreement], names: Mapping[str, str] | None = None
) -> pd.DataFrame:
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
    frame = pd.DataFrame(rows, columns=["a", "b", "jaccard", "kappa", "n_both"])
    frame["name_a"] = [_name(names, cid) for cid in frame["a"]]
    frame["name_b"] = [_name(names, cid) for cid in frame["b"]]
    frame["ids"] = frame["a"] + " / " + frame["b"]
    return frame


def heatmap(frame: pd.DataFrame, measure: str, order: Sequence[str]) -> alt.LayerChart:
    """Pairwise agreement (`jaccard` or `kappa`) as coloured cells with the value written in.

    `frame` from `agreement_frame`; `order`: the classifiers' names in display order. Each
    cell is `CELL_PX` square whatever the number of classifiers, so two or three stay legible.
    """
    data = frame.assign(label=frame[measure].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}"))
    domain = [0, 1] if measure == "jaccard" else [-1, 1]
    scheme = "blues" if measure == "jaccard" else "redblue"
    title = "Jaccard" if measure == "jaccard" else "Cohen's κ"
    axis = {"labelOverlap": False, "labelLimit": AXIS_LABEL_LIMIT, "labelFontSize": 12}
    base = alt.Chart(data).encode(
        x=alt.X("name_a:N", sort=list(order), title=None, axis=alt.Axis(labelAngle=-35, **axis)),
        y=alt.Y("name_b:N", sort=list(order), title=None, axis=alt.Axis(**axis)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            f"{measure}:Q", scale=alt.Scale(domain=domain, scheme=scheme), title=title, legend=None
        ),
        tooltip=[
            alt.Tooltip("name_a:N", title="Classifier"),
            alt.Tooltip("name_b:N", title="and"),
            alt.Tooltip(f"{measure}:Q", title=title, format=".3f"),
            alt.Tooltip("n_both:Q", title="Positive in both"),
            alt.Tooltip("ids:N", title="Ids"),
        ],
    )
    # white on the dark ends of the scale, black on the light middle; "n/a" has no cell
    # under it, so it takes the mid-tone that reads on either theme's background
    text_colour = (
        alt.when(f"!isValid(datum.{measure})")
        .then(alt.value(NEUTRAL))
        .when(f"datum.{measure} > 0.6 || datum.{measure} < -0.6")
        .then(alt.value("white"))
        .otherwise(alt.value("black"))
    )
    text = base.mark_text(fontSize=13).encode(text="label:N", color=text_colour)
    return (cells + text).properties(
        width=alt.Step(CELL_PX), height=alt.Step(CELL_PX), autosize=_NATURAL_SIZE
    )


def upset(
    intersections: list[tuple[tuple[str, ...], int]],
    ids: Sequence[str],
    names: Mapping[str, str] | None = None,
) -> alt.VConcatChart:
    """UpSet-style: a bar per combination of classifiers, and the dot matrix saying which."""
    shown = intersections[:MAX_UPSET_BARS]
    order = [_name(names, cid) for cid in ids]
    combos = [" + ".join(_name(names, m) for m in members) for members, _ in shown]
    bars = pd.DataFrame({"combination": combos, "passages": [count for _, count in shown]})
    dots = _membership(combos, [members for members, _ in shown], ids, names)
    x = alt.X("combination:N", sort=combos, axis=None)
    top = (
        alt.Chart(bars)
        .mark_bar()  # the theme's first chart colour: it adapts to light and dark
        .encode(
            x=x,
            y=alt.Y("passages:Q", title="Positive passages"),
            tooltip=["combination", "passages"],
        )
    )
    labels = top.mark_text(dy=-7, fontSize=12, color=NEUTRAL).encode(text="passages:Q")
    # members: a full accent dot; the others: the same mid-tone, faint, on either background
    matrix = (
        alt.Chart(dots)
        .mark_circle(size=140)
        .encode(
            x=x,
            y=alt.Y("classifier:N", sort=order, title=None, axis=alt.Axis(labelLimit=200)),
            color=alt.condition("datum.member", alt.value(ACCENT), alt.value(NEUTRAL)),
            opacity=alt.condition("datum.member", alt.value(1.0), alt.value(0.25)),
            tooltip=["combination"],
        )
    )
    width = max(240, 46 * len(combos))
    return alt.vconcat(
        (top + labels).properties(width=width, height=200),
        matrix.properties(width=width, height=28 * len(ids)),
        spacing=4,
    )


def _membership(
    combos: list[str],
    members: list[tuple[str, ...]],
    ids: Sequence[str],
    names: Mapping[str, str] | None,
) -> pd.DataFrame:
    """The UpSet dot matrix: one row per combination and classifier, and whether it is in."""
    rows = [
        {"combination": combo, "classifier": _name(names, item), "member": item in inside}
        for combo, inside in zip(combos, members, strict=True)
        for item in ids
    ]
    return pd.DataFrame(rows, columns=["combination", "classifier", "member"])


def breakdown_chart(
    frame: pd.DataFrame, column: str, names: Mapping[str, str] | None = None
) -> alt.Chart | alt.LayerChart:
    """Positives per value of `column`: grouped bars (region, corpus) or lines (year).

    In the year chart each classifier has its own colour, dash pattern and hollow marker
    shape, so two classifiers with the same counts still show as two lines.
    """
    named = frame.assign(name=[_name(names, cid) for cid in frame["classifier"]])
    order = list(dict.fromkeys(named["name"]))
    series = {"title": "Classifier", "sort": order}
    tooltip = [
        alt.Tooltip("name:N", title="Classifier"),
        alt.Tooltip("classifier:N", title="Id"),
    ]
    if column == "year":
        years = named[named["value"] != "(none)"].assign(year=lambda f: f["value"].astype(int))
        base = alt.Chart(years).encode(
            x=alt.X("year:O", title="Publication year"),
            y=alt.Y("positives:Q", title="Positive passages"),
            color=alt.Color("name:N", **series),
            tooltip=[*tooltip, "year", "positives"],
        )
        lines = base.mark_line(strokeWidth=2).encode(strokeDash=alt.StrokeDash("name:N", **series))
        points = base.mark_point(filled=False, size=80, strokeWidth=2).encode(
            shape=alt.Shape("name:N", **series)
        )
        return (lines + points).properties(height=280)
    return (
        alt.Chart(named)
        .mark_bar()
        .encode(
            y=alt.Y("value:N", title=None, sort="-x", axis=alt.Axis(labelLimit=240)),
            x=alt.X("positives:Q", title="Positive passages"),
            yOffset=alt.YOffset("name:N", sort=order),
            color=alt.Color("name:N", **series),
            tooltip=[*tooltip, "value", "positives"],
        )
        .properties(height=alt.Step(12))
    )
