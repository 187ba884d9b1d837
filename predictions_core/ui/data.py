"""Cached accessors the pages read data through: the store, tables, facets, pages, comparisons.

The process-wide `PredictionStore` holds the parsed tables (one per file, shared by every
session and the HTTP routes). What is derived from a table here (facets, a page of results,
comparison figures) is cached by the file's fingerprint (size + mtime), so a changed file
gives fresh answers and an unchanged one costs a dictionary lookup.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import streamlit as st

from predictions_core.analysis import compare
from predictions_core.data.catalogue import Catalogue, ClassifierEntry, ConceptEntry
from predictions_core.data.loading import LoadedPredictions, fingerprint
from predictions_core.data.location import app_settings, reload_settings
from predictions_core.data.store import PredictionStore, get_store
from predictions_core.query.engine import (
    FacetCounts,
    Facets,
    QueryResult,
    facet_counts,
    facet_values,
    query_predictions,
)
from predictions_core.query.filters import Filters
from predictions_core.settings import Settings


def current_settings() -> Settings:
    """The process's settings (read once; `forget_everything` reads them again)."""
    return app_settings()


_read_since: dict[str, datetime] = {}


@st.cache_resource(show_spinner=False)
def _cached_store(data_dir: str, cache_dir: str, _settings: Settings) -> PredictionStore:
    # keyed by the directories, so tests (and a changed PREDICTIONS_DATA_DIR) get their own
    _read_since.setdefault(data_dir, datetime.now(UTC))
    return get_store(_settings)


def in_memory_since() -> datetime | None:
    """When this process started holding the current data dir (or last dropped it)."""
    return _read_since.get(str(current_settings().data_dir.resolve()))


def current_store() -> PredictionStore:
    """The process's store for the current data dir (created once, then shared)."""
    settings = current_settings()
    return _cached_store(
        str(settings.data_dir.resolve()), str(settings.resolved_cache_dir.resolve()), settings
    )


def current_catalogue() -> Catalogue:
    """The concepts and classifiers of the current data dir (rescanned when files change)."""
    return current_store().catalogue()


def version_of(entry: ClassifierEntry) -> str:
    """A cache key for one classifier's predictions file as it is now."""
    try:
        return f"{entry.predictions_path}|{fingerprint(entry.predictions_path)}"
    except OSError:
        return f"{entry.predictions_path}|missing"


def load_classifier(concept: ConceptEntry, entry: ClassifierEntry) -> LoadedPredictions:
    """The loaded predictions of one classifier; a spinner says what loads when it is slow."""
    try:
        size_mb = entry.predictions_path.stat().st_size / 1_000_000
    except OSError:
        size_mb = 0.0
    label = f"{concept.concept.preferred_label} · {entry.classifier.name}"
    # st.spinner only shows after half a second, so cached loads do not flash it
    with st.spinner(f"Loading {size_mb:,.1f} MB of predictions for {label}…"):
        return current_store().load_entry(entry)


@st.cache_data(show_spinner=False, max_entries=64)
def facets_of(version: str, _table: pa.Table) -> Facets:
    """Region/corpus/translated counts and year range of a table (`version`: its cache key)."""
    return facet_values(_table)


@st.cache_data(show_spinner=False, max_entries=256)
def _facet_counts(version: str, filters_json: str, _table: pa.Table) -> FacetCounts:
    return facet_counts(_table, Filters.model_validate_json(filters_json))


def facet_counts_under(version: str, table: pa.Table, filters: Filters) -> FacetCounts:
    """Each facet's value counts under the other filters (`engine.facet_counts`), cached like
    a page: the order and the page do not change a count, so they share one cache entry."""
    unordered = filters.model_copy(update={"sort": "default", "seed": None, "page": 1})
    return _facet_counts(version, unordered.model_dump_json(exclude={"page_size"}), table)


@st.cache_data(show_spinner=False, max_entries=256)
def _query(version: str, filters_json: str, _table: pa.Table) -> QueryResult:
    return query_predictions(_table, Filters.model_validate_json(filters_json))


def query_page(version: str, table: pa.Table, filters: Filters) -> QueryResult:
    """One page of a table (cached by `version` and filters: a rerun of the same view is free)."""
    return _query(version, filters.model_dump_json(), table)


@st.cache_resource(show_spinner=False, max_entries=16)
def _disagreement(version: str, which: str, _a: pa.Table, _b: pa.Table) -> pa.Table:
    return compare.disagreement_table(_a, _b, which)


def disagreement_rows(
    concept: ConceptEntry, pair: tuple[ClassifierEntry, ClassifierEntry], which: str
) -> tuple[str, pa.Table]:
    """(cache key, table) of the passages only A, only B or both flagged, with both spans."""
    version = f"{version_of(pair[0])}||{version_of(pair[1])}||{which}"
    a, b = (load_classifier(concept, entry).table for entry in pair)
    return version, _disagreement(version, which, a, b)


@st.cache_data(show_spinner=False, max_entries=128)
def _positive_counts(version: str, _loaded: LoadedPredictions) -> tuple[int, int]:
    return _loaded.n_positives, _loaded.n_passages


def positive_counts(concept: ConceptEntry, entry: ClassifierEntry) -> tuple[int, int]:
    """(positives, passages) of one classifier."""
    return _positive_counts(version_of(entry), load_classifier(concept, entry))


@st.cache_data(show_spinner=False, max_entries=32)
def _comparison(versions: tuple[str, ...], _items: tuple[compare.ComparedClassifier, ...]):
    return {
        "summary": compare.summary_rows(_items),
        "agreement": compare.pairwise_agreement(_items),
        "intersections": compare.intersections(_items),
        "breakdowns": {
            column: compare.positives_by(_items, column) for column in compare.BREAKDOWN_COLUMNS
        },
    }


def comparison(concept: ConceptEntry, entries: list[ClassifierEntry]) -> dict:
    """Summary rows, pairwise agreement, intersections and breakdowns of some classifiers."""
    items = []
    for entry in entries:
        loaded = load_classifier(concept, entry)
        items.append(
            compare.ComparedClassifier(
                id=entry.id,
                table=loaded.table,
                knows_negatives=compare.knows_negatives(entry.layout, loaded.table),
                name=entry.classifier.name,
                date=entry.classifier.date_text,
            )
        )
    return _comparison(tuple(version_of(e) for e in entries), tuple(items))


def forget_everything() -> None:
    """Drop every in-memory cache (files on disk, and their columnar caches, stay)."""
    current_store().forget()
    _read_since[str(current_settings().data_dir.resolve())] = datetime.now(UTC)
    reload_settings()  # e.g. data/processed may hold concepts now (no more demo fallback)
    st.cache_data.clear()
    _disagreement.clear()
