"""Compare classifiers of one concept: counts, agreement, overlaps, breakdowns, disagreements.

Pure functions over loaded predictions tables (see `loading`), no Streamlit. Passages are
matched across classifiers by `passage_key` (a hash of the passage text), not by `id`: ids
are per run and per file, the text is what two classifiers actually both read. Where a
passage text occurs more than once in a file it counts once, positive when any copy has spans.

Agreement has two measures. Jaccard compares the sets of positive passages and needs no
negatives. Cohen's kappa needs to know what each classifier said "no" to, so it is computed
only when both files list their negatives (the per-classifier layout holds passages with
empty spans), over the passages both classifiers saw.

At a score threshold (`at_threshold`), a passage of a classifier with scores is positive only
when its score is at least the threshold; every function here then works on that table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from predictions_core.analysis.metrics import cohens_kappa
from predictions_core.data.sql import fetch_arrow, fetch_rows
from predictions_core.errors import InvalidParameterError

BREAKDOWN_COLUMNS = ("region", "corpus", "year")
DISAGREEMENT_SETS = ("only_a", "only_b", "both")
MISSING_VALUE = "(none)"


@dataclass(frozen=True)
class ComparedClassifier:
    """One classifier's loaded predictions, and whether the file lists its negatives."""

    id: str
    table: pa.Table
    knows_negatives: bool
    name: str = ""
    date: str = ""


@dataclass(frozen=True)
class Agreement:
    """How two classifiers agree: positive-set overlap, and kappa where negatives are known."""

    a: str
    b: str
    n_both: int
    n_only_a: int
    n_only_b: int
    jaccard: float | None
    kappa: float | None
    n_compared: int  # passages both saw (the kappa's basis); 0 when kappa is not computed


def knows_negatives(layout: str, table: pa.Table) -> bool:
    """True when a file lists passages without spans, so "not positive" means "said no".

    The older layout holds positives only; per-classifier and per-document files may list
    negatives, and do when at least one passage has no span.
    """
    if layout not in ("per_classifier", "per_document") or table.num_rows == 0:
        return False
    return bool(pc.any(pc.equal(table["n_spans"], 0)).as_py())


def positive_keys(table: pa.Table) -> pa.Array:
    """The distinct `passage_key`s of passages with at least one span."""
    positives = table.filter(pc.greater(table["n_spans"], 0))["passage_key"]
    return pc.unique(positives.combine_chunks())


def summary_rows(classifiers: Sequence[ComparedClassifier]) -> list[dict]:
    """One row per classifier: passages, positives, spans, share positive, spans per positive."""
    rows = []
    for item in classifiers:
        table = item.table
        n_positive = int(pc.sum(pc.greater(table["n_spans"], 0)).as_py() or 0)
        n_spans = int(pc.sum(table["n_spans"]).as_py() or 0)
        rows.append(
            {
                "classifier": item.id,
                "name": item.name or item.id,
                "date": item.date,
                "passages": table.num_rows,
                "positives": n_positive,
                "spans": n_spans,
                "share_positive": (n_positive / table.num_rows) if item.knows_negatives else None,
                "spans_per_positive": (n_spans / n_positive) if n_positive else None,
                "lists_negatives": item.knows_negatives,
            }
        )
    return rows


def jaccard(n_both: int, n_only_a: int, n_only_b: int) -> float | None:
    """|A∩B| / |A∪B|; None when neither has a positive (nothing to compare)."""
    union = n_both + n_only_a + n_only_b
    return n_both / union if union else None


def kappa_table(a: pa.Table, b: pa.Table) -> tuple[int, int, int, int]:
    """(yes/yes, yes/no, no/yes, no/no) over the passages both tables hold."""
    sql = """
        WITH ka AS (SELECT passage_key, bool_or(n_spans > 0) AS yes FROM a GROUP BY 1),
             kb AS (SELECT passage_key, bool_or(n_spans > 0) AS yes FROM b GROUP BY 1)
        SELECT count(*) FILTER (WHERE ka.yes AND kb.yes),
               count(*) FILTER (WHERE ka.yes AND NOT kb.yes),
               count(*) FILTER (WHERE NOT ka.yes AND kb.yes),
               count(*) FILTER (WHERE NOT ka.yes AND NOT kb.yes)
        FROM ka JOIN kb USING (passage_key)
    """
    ((yes_yes, yes_no, no_yes, no_no),) = fetch_rows(sql, tables={"a": a, "b": b})
    return int(yes_yes), int(yes_no), int(no_yes), int(no_no)


def agreement(a: ComparedClassifier, b: ComparedClassifier) -> Agreement:
    """Jaccard of the positive sets, and Cohen's kappa when both list their negatives."""
    keys_a, keys_b = positive_keys(a.table), positive_keys(b.table)
    n_both = int(pc.sum(pc.is_in(keys_a, value_set=keys_b)).as_py() or 0)
    n_only_a, n_only_b = len(keys_a) - n_both, len(keys_b) - n_both
    kappa, n_compared = None, 0
    if a.knows_negatives and b.knows_negatives:
        counts = kappa_table(a.table, b.table)
        kappa, n_compared = cohens_kappa(*counts), sum(counts)
    return Agreement(
        a=a.id,
        b=b.id,
        n_both=n_both,
        n_only_a=n_only_a,
        n_only_b=n_only_b,
        jaccard=jaccard(n_both, n_only_a, n_only_b),
        kappa=kappa,
        n_compared=n_compared,
    )


def pairwise_agreement(classifiers: Sequence[ComparedClassifier]) -> list[Agreement]:
    """`agreement` for every unordered pair (a before b in the given order)."""
    return [agreement(a, b) for a, b in itertools.combinations(classifiers, 2)]


def intersections(classifiers: Sequence[ComparedClassifier]) -> list[tuple[tuple[str, ...], int]]:
    """Positive passages by the exact set of classifiers that flagged them, largest first.

    The bars of an UpSet plot: each positive passage is counted once, in the combination of
    all the classifiers that found it.
    """
    if not classifiers:
        return []
    tables = {f"t{i}": item.table for i, item in enumerate(classifiers)}
    union = " UNION ALL ".join(
        f"SELECT passage_key, {1 << i}::BIGINT AS bit FROM t{i} WHERE n_spans > 0"
        for i in range(len(classifiers))
    )
    sql = f"""
        WITH flagged AS ({union}),
             masks AS (SELECT passage_key, bit_or(bit) AS mask FROM flagged GROUP BY 1)
        SELECT mask, count(*) FROM masks GROUP BY mask ORDER BY 2 DESC, 1
    """
    result = []
    for mask, count in fetch_rows(sql, tables=tables):
        members = tuple(c.id for i, c in enumerate(classifiers) if mask & (1 << i))
        result.append((members, int(count)))
    return result


def positives_by(classifiers: Sequence[ComparedClassifier], column: str) -> pd.DataFrame:
    """Positive passages per value of `column` (region, corpus or year) for each classifier.

    Long form: columns `classifier`, `value` (text; missing values as "(none)"), `positives`.
    """
    if column not in BREAKDOWN_COLUMNS:
        choices = ", ".join(BREAKDOWN_COLUMNS)
        raise InvalidParameterError("column", f"cannot break down by {column!r} (use {choices})")
    frames = []
    for item in classifiers:
        sql = f"""SELECT coalesce(CAST({column} AS VARCHAR), '{MISSING_VALUE}') AS value,
                         count(*) AS positives
                  FROM t WHERE n_spans > 0 GROUP BY 1 ORDER BY 1"""
        frame = fetch_arrow(sql, tables={"t": item.table}).to_pandas()
        frame.insert(0, "classifier", item.id)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["classifier", "value", "positives"])
    return pd.concat(frames, ignore_index=True)


def disagreement_table(a: pa.Table, b: pa.Table, which: str) -> pa.Table:
    """Positive passages of one side of a pair, with both classifiers' spans.

    `which`: `only_a` (A found spans, B did not), `only_b`, or `both`. Rows keep every
    column of the side they come from (A's for `only_a`/`both`, B's for `only_b`), so
    `query_predictions` filters, sorts and pages them as usual; `spans_a` and `spans_b`
    hold each classifier's spans on that passage (empty for the one that found none), and
    `id_a` and `id_b` each classifier's own id for it (null for the one that did not flag
    it): passages are matched by text, and two files may give one passage different ids.
    """
    if which not in DISAGREEMENT_SETS:
        choices = ", ".join(DISAGREEMENT_SETS)
        raise InvalidParameterError("show", f"{which!r} is not one of {choices}")
    base, other = ("b", "a") if which == "only_b" else ("a", "b")
    join = "JOIN" if which == "both" else "ANTI JOIN"
    # an empty slice of the base's own spans: an empty list of the same type
    other_spans = "o.spans" if which == "both" else "list_slice(base.spans, 1, 0)"
    other_id = "o.id" if which == "both" else "CAST(NULL AS VARCHAR)"
    spans_a, spans_b = ("base.spans", other_spans) if base == "a" else (other_spans, "base.spans")
    id_a, id_b = ("base.id", other_id) if base == "a" else (other_id, "base.id")
    sql = f"""
        WITH o AS (
            SELECT passage_key, text, spans, id FROM {other} WHERE n_spans > 0
            QUALIFY row_number() OVER (PARTITION BY passage_key ORDER BY source_line) = 1)
        SELECT base.*, {spans_a} AS spans_a, {spans_b} AS spans_b, {id_a} AS id_a, {id_b} AS id_b
        FROM {base} AS base {join} o
          ON base.passage_key = o.passage_key AND base.text = o.text
        WHERE base.n_spans > 0
        ORDER BY base.source_line
    """
    return fetch_arrow(sql, tables={"a": a, "b": b})


def has_scores(table: pa.Table) -> bool:
    """True when some passage of the table has a score (the loader's `score` column)."""
    return "score" in table.column_names and table["score"].null_count < table.num_rows


def at_threshold(table: pa.Table, threshold: float | None) -> pa.Table:
    """The table with passages scoring below `threshold` (or unscored) made negative.

    Unchanged without a threshold or without scores (such a classifier is unaffected).
    """
    if threshold is None or not has_scores(table):
        return table
    keep = pc.fill_null(pc.greater_equal(table["score"], threshold), False)
    n_spans = pc.if_else(keep, table["n_spans"], pa.scalar(0, table.schema.field("n_spans").type))
    return table.set_column(table.column_names.index("n_spans"), "n_spans", n_spans)
