"""The Evaluate page's charts: where A beats B (ΔF1 per slice), precision–recall and F1 by
threshold, with the best threshold of each classifier.

Classifiers appear under the names the evaluation carries, which `evaluate_view.evaluation`
makes the short distinguishing names (`ConceptEntry.short_names`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from predictions_core.analysis.metrics import Interval
from predictions_core.analysis.results import Evaluation
from predictions_core.analysis.thresholds import NO_SCORES
from predictions_core.ui.views import markdown_text

DELTA = "ΔF1 (A − B)"


def format_score(value: float | None, interval: Interval | None = None) -> str:
    """`0.912 [0.871–0.950]`, or `—` for an undefined score."""
    if value is None:
        return "—"
    text = f"{value:.3f}"
    return text + (f" [{interval[0]:.3f}–{interval[1]:.3f}]" if interval else "")


# ---------------------------------------------------------------------- where A beats B


def render_comparison(frame: pd.DataFrame) -> None:
    """The ΔF1 bar chart and the ranked table of slices."""
    st.altair_chart(comparison_chart(frame), width="stretch")
    scores = ("F1 A", "F1 B", DELTA)
    config = {name: st.column_config.NumberColumn(format="%.3f") for name in scores}
    st.dataframe(frame, hide_index=True, column_config=config)


def comparison_chart(frame: pd.DataFrame) -> alt.Chart:
    """Horizontal bars of ΔF1 per slice, best for A at the top; small slices paler."""
    data = frame.dropna(subset=[DELTA]).assign(
        better=lambda f: f[DELTA].map(lambda d: "A" if d > 0 else "B" if d < 0 else "tie")
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{DELTA}:Q", title="F1 of A minus F1 of B"),
            y=alt.Y("slice:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color(
                "better:N",
                title="better",
                scale=alt.Scale(domain=["A", "B", "tie"], range=["#1f77b4", "#ff7f0e", "#9e9e9e"]),
            ),
            opacity=alt.condition(alt.datum.small == "", alt.value(1.0), alt.value(0.4)),
            tooltip=["slice", "n", "F1 A", "F1 B", DELTA, "small"],
        )
    )


# ---------------------------------------------------------------------- scores and thresholds


def best_threshold_lines(result: Evaluation) -> list[str]:
    """One sentence per classifier: its best threshold and F1 with interval, or why none."""
    lines = []
    for classifier in result.classifiers:
        report, name = classifier.threshold, markdown_text(classifier.name)
        if not report.has_scores:
            lines.append(f"{name}: {NO_SCORES}.")
        elif report.best is None or report.best_ci is None:
            lines.append(f"{name}: no threshold gives a defined F1.")
        else:
            best = report.best.scores
            f1 = format_score(best.f1, report.best_ci.f1)
            lines.append(
                f"{name}: best threshold **{report.best.threshold:.3f}**, F1 {f1} "
                f"(precision {format_score(best.precision)}, recall {format_score(best.recall)})"
            )
    return lines


def curve_frame(result: Evaluation) -> pd.DataFrame:
    """Every classifier's curve points: classifier, threshold, precision, recall, F1."""
    rows = [
        {"classifier": c.name, **point.to_json()}
        for c in result.classifiers
        for point in c.threshold.curve
    ]
    columns = ["classifier", "threshold", "tp", "fp", "fn", "precision", "recall", "f1"]
    return pd.DataFrame(rows, columns=columns)


def precision_recall_chart(frame: pd.DataFrame) -> alt.Chart:
    """Precision against recall, one line per classifier, points ordered by threshold."""
    return (
        alt.Chart(frame.dropna(subset=["precision", "recall"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("recall:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("precision:Q", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("classifier:N"),
            order=alt.Order("threshold:Q", sort="descending"),
            tooltip=["classifier", "threshold", "precision", "recall", "f1"],
        )
        .properties(title="Precision–recall")
    )


def f1_chart(frame: pd.DataFrame, threshold: float | None) -> alt.LayerChart | alt.Chart:
    """F1 by threshold, one line per classifier; a rule at the threshold applied."""
    lines = (
        alt.Chart(frame.dropna(subset=["f1"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("threshold:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("f1:Q", title="F1", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("classifier:N"),
            tooltip=["classifier", "threshold", "f1", "tp", "fp", "fn"],
        )
        .properties(title="F1 by threshold")
    )
    if threshold is None:
        return lines
    rule = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(strokeDash=[4, 4])
    return lines + rule.encode(x="threshold:Q")


def render_thresholds(result: Evaluation) -> None:
    """The best threshold of each classifier, and the two charts when any has scores."""
    for line in best_threshold_lines(result):
        st.markdown(f"- {line}")
    frame = curve_frame(result)
    if frame.empty:
        return
    left, right = st.columns(2)
    left.altair_chart(precision_recall_chart(frame), width="stretch")
    right.altair_chart(f1_chart(frame, result.threshold), width="stretch")
    st.caption(
        "Each point: passages scoring at least that threshold count as positive. Best: the "
        "highest passage F1 (the higher threshold on a tie). Its interval is a 95% bootstrap "
        "at that threshold, optimistic since the threshold was chosen on the same passages."
    )
