"""HTTP routes of CONTRACT §5, mounted at `/api` on the dashboard's own server.

The datasette model: a request's raw query string becomes one `Filters` through the same
parser the dashboard's URL goes through, `query` computes the rows, and each output format is
a thin renderer from `export` (the dashboard's download buttons call the same renderers), so
a Browse URL's query string on the API gives the same rows in the same order.

Paths here are relative to the mount (`/health` is served as `/api/health`). No `root_path`
is set on the app: the `Mount` supplies it, which keeps `/api/docs` and `/api/openapi.json`
right even when Streamlit itself runs under a base URL path.

Handlers are plain `def`s: loading and querying block, so Starlette runs them in its thread
pool. The store is resolved per request (`current_store`, a dependency tests may override),
never when the cached app is created.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from predictions_core.analysis.evaluation import evaluate_concept
from predictions_core.analysis.gold import GOLD_SOURCES
from predictions_core.analysis.thresholds import parse_threshold
from predictions_core.api.feedback import OPENAPI_FEEDBACK_BODY, post_feedback
from predictions_core.api.health import (
    OPENAPI_HEALTH_PARAMETERS,
    health_report,
    not_ready_message,
)
from predictions_core.api.params import (
    FEEDBACK_FORMATS,
    OPENAPI_EVALUATION_PARAMETERS,
    OPENAPI_FEEDBACK_PARAMETERS,
    OPENAPI_PREDICTIONS_PARAMETERS,
    parse_choice,
    parse_flag,
    query_lists,
)
from predictions_core.api.responses import (
    error_response,
    install_error_handlers,
    json_response,
    streamed_response,
)
from predictions_core.data.catalogue import ClassifierEntry, ConceptEntry
from predictions_core.data.location import app_settings
from predictions_core.data.store import PredictionStore, get_store
from predictions_core.feedback.store import FeedbackStore
from predictions_core.query import export
from predictions_core.query.engine import query_predictions
from predictions_core.query.filters import Filters

API_VERSION = "1"


def current_store() -> PredictionStore:
    """The store of the data dir the environment names now (read on every request)."""
    return get_store(app_settings())


Store = Annotated[PredictionStore, Depends(current_store)]


@cache
def create_api() -> FastAPI:
    """The FastAPI app of CONTRACT §5 (one per process; `app.py` mounts it at `/api`)."""
    api = FastAPI(
        title="Predictions API",
        version=API_VERSION,
        summary="Concept classifier predictions: the JSON/CSV side of every dashboard view.",
        # a trailing-slash redirect would rebuild the URL from the *decoded* path (a `%2F`
        # in an id becomes a real `/`): one exact path per route, anything else a 404
        redirect_slashes=False,
    )
    install_error_handlers(api)
    api.get(
        "/health",
        summary="Liveness, first-sync progress, concept count, last S3 sync, feedback DB",
        openapi_extra={"parameters": OPENAPI_HEALTH_PARAMETERS},
    )(health)
    api.get("/concepts", summary="Every concept with its classifiers")(list_concepts)
    api.get("/concepts/{qid}", summary="One concept with its classifiers")(get_concept)
    api.get(
        "/predictions/{qid}/{classifier_id}",
        summary="Filtered, sorted predictions as paged JSON, or every row as JSONL/CSV",
        openapi_extra={"parameters": OPENAPI_PREDICTIONS_PARAMETERS},
    )(get_predictions)
    api.get(
        "/evaluation/{qid}",
        summary="Each classifier against the gold labels (404 when the concept has none)",
        openapi_extra={"parameters": OPENAPI_EVALUATION_PARAMETERS},
    )(get_evaluation)
    api.get(
        "/feedback/{qid}/{classifier_id}",
        summary="Reviewers' judgements recorded in the dashboard",
        openapi_extra={"parameters": OPENAPI_FEEDBACK_PARAMETERS},
    )(get_feedback)
    api.post(
        "/feedback/{qid}/{classifier_id}",
        status_code=201,
        summary="Record one reviewer's judgement of a passage (201 with the stored record)",
        openapi_extra=OPENAPI_FEEDBACK_BODY,
    )(post_feedback_route)
    return api


async def post_feedback_route(
    qid: str, classifier_id: str, request: Request, store: Store
) -> Response:
    """Record one judgement (`api.feedback`: body bound, sign-in, checks, the shared write)."""
    return await post_feedback(qid, classifier_id, request, store)


def health(request: Request, store: Store) -> Response:
    """`{"status": "ok"|"syncing", "sync_progress", "concepts": N, "last_sync", ...}`.

    Always 200 while the process serves; with `ready=true` (the load balancer's readiness
    check) 503 `{"error", "status": "syncing", ...}` until the first sync has finished.
    """
    ready = parse_flag(query_lists(request), "ready")
    report = health_report(store)
    if ready and report["status"] == "syncing":
        return error_response(503, not_ready_message(report), **report)
    return json_response(report)


def list_concepts(store: Store) -> Response:
    """Every concept with its classifiers (the first call loads every predictions file)."""
    concepts = store.catalogue().concepts.values()
    return json_response([_concept_summary(store, concept) for concept in concepts])


def get_concept(qid: str, store: Store) -> Response:
    """One concept: labels, description, definition, gold label count and classifiers."""
    concept = store.catalogue().concept(qid)
    return json_response(
        {
            **_concept_summary(store, concept),
            "alternative_labels": concept.concept.alternative_labels,
            "negative_labels": concept.concept.negative_labels,
            "definition": concept.concept.definition,
            "n_gold": len(concept.gold_passages),
        }
    )


def get_predictions(qid: str, classifier_id: str, request: Request, store: Store) -> Response:
    """Filtered predictions: paged JSON (default), or every row as JSON/JSONL/CSV streamed.

    The parameters are read from the raw query string by `Filters.from_query_params`, the
    dashboard's parser, so unknown keys (a Browse URL's `concept=`, `classifier=`) are ignored.
    """
    catalogue = store.catalogue()
    classifier = catalogue.classifier(qid, classifier_id)
    concept = catalogue.concept(qid)
    params = query_lists(request)
    fmt = parse_choice(params, "format", export.EXPORT_FORMATS, default="json")
    download = parse_flag(params, "download")
    filters = Filters.from_query_params(params)
    table = store.load_entry(classifier).table
    if fmt == "json" and not download:
        result = query_predictions(table, filters)
        return json_response(export.json_page(concept, classifier, result, filters))
    chunks = export.render_download(fmt, table, concept, classifier, filters)
    name = export.download_filename(qid, classifier_id, fmt) if download else None
    return streamed_response(chunks, export.MEDIA_TYPES[fmt], name)


def get_evaluation(qid: str, request: Request, store: Store) -> Response:
    """Precision, recall and F1 of each classifier against the concept's gold labels.

    `threshold=T` (0..1): passages of classifiers with scores count as predicted positive only
    when their score is at least T (the last value wins; a bad value is a 400).
    """
    store.catalogue().concept(qid)  # a malformed or unknown id answers before anything runs
    params = query_lists(request)
    gold_source = parse_choice(params, "gold_source", GOLD_SOURCES, default="auto")
    threshold = parse_threshold((params.get("threshold") or [None])[-1])
    # reading never creates the database: no file simply means no judgements yet
    feedback = FeedbackStore(store.settings.resolved_feedback_db)
    result = evaluate_concept(
        store,
        qid,
        gold_source=gold_source,
        feedback_passages=lambda: feedback.labelled_passages(qid),
        threshold=threshold,
    )
    return json_response(result.to_json())


def get_feedback(qid: str, classifier_id: str, request: Request, store: Store) -> Response:
    """Reviewers' judgements: JSON (default) or JSONL LabelledPassages (`format=jsonl`)."""
    store.catalogue().classifier(qid, classifier_id)
    params = query_lists(request)
    fmt = parse_choice(params, "format", FEEDBACK_FORMATS, default="json")
    download = parse_flag(params, "download")
    # reading never creates the database: no file simply means no judgements yet
    feedback = FeedbackStore(store.settings.resolved_feedback_db)
    name = f"{qid}-{classifier_id}-feedback.{fmt}" if download else None
    if fmt == "jsonl":
        chunks = iter(feedback.export_jsonl(qid, classifier_id))
        return streamed_response(chunks, export.MEDIA_TYPES["jsonl"], name)
    judgements = feedback.list_judgements(qid, classifier_id)
    body = {"wikibase_id": qid, "classifier_id": classifier_id, "judgements": judgements}
    response = json_response(body)
    if name is not None:
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _concept_summary(store: PredictionStore, concept: ConceptEntry) -> dict[str, Any]:
    return {
        "wikibase_id": concept.wikibase_id,
        "preferred_label": concept.concept.preferred_label,
        "description": concept.concept.description,
        "classifiers": [
            _classifier_summary(store, entry) for entry in concept.classifiers.values()
        ],
    }


def _classifier_summary(store: PredictionStore, entry: ClassifierEntry) -> dict[str, Any]:
    loaded = store.load_entry(entry)
    return {
        "id": entry.id,
        "name": entry.classifier.name,
        "date": entry.classifier.date_text or None,
        "n_predictions": loaded.n_positives,
        "n_passages": loaded.n_passages,
    }
