"""`predictions predict QID --passages FILE ...`: run classifiers, print what they found."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from predictions_core.data.issues import LoadIssue
from predictions_core.data.location import app_settings
from predictions_core.data.models import Concept
from predictions_core.errors import PredictionsError, SyncError
from predictions_core.predict.classifiers import resolve_kinds
from predictions_core.predict.passages import PassagesFile, read_passages
from predictions_core.predict.runner import PredictionRun, load_concept, predict_concept
from predictions_core.settings import DEFAULT_DATA_DIR, Settings

_MAX_ISSUES_SHOWN = 20


def run_predict_command(args: argparse.Namespace) -> int:
    """Run `predictions predict`; returns the exit code."""
    settings = app_settings()
    # never write a user's predictions into the bundled demo data the settings fell back to
    out_dir = args.out or (DEFAULT_DATA_DIR if settings.data_dir_is_demo else settings.data_dir)
    kinds = resolve_kinds(args.classifiers)
    if args.save_to_s3 and not settings.s3_bucket:
        raise PredictionsError("--save-to-s3 needs a bucket: set PREDICTIONS_S3_BUCKET")
    concept, concept_path = load_concept(args.qid, args.concept, out_dir)
    passages_file = read_passages(args.passages)
    _print_issues(passages_file.issues)
    try:
        runs = predict_concept(
            concept,
            passages_file.passages,
            kinds,
            out_dir,
            concept_source=concept_path,
            include_gold=not args.no_gold,
        )
    except OSError as error:
        raise PredictionsError(f"cannot write predictions into {out_dir}: {error}") from error
    _print_summary(concept, passages_file, runs, out_dir)
    _print_gold(concept, runs, included=not args.no_gold)
    if args.save_to_s3:
        _upload(runs, out_dir, settings)
    return 0


def _print_issues(issues: list[LoadIssue]) -> None:
    for issue in issues[:_MAX_ISSUES_SHOWN]:
        print(f"warning: skipped {issue.describe()}", file=sys.stderr)
    if len(issues) > _MAX_ISSUES_SHOWN:
        print(f"warning: ... and {len(issues) - _MAX_ISSUES_SHOWN} more", file=sys.stderr)


def _print_summary(
    concept: Concept, passages_file: PassagesFile, runs: list[PredictionRun], out_dir: Path
) -> None:
    print(
        f"{concept.wikibase_id} ({concept.preferred_label}): {len(passages_file.passages)} "
        f"passages from {passages_file.path}, written to {out_dir / concept.wikibase_id}"
    )
    print(
        f"  {'classifier':<10} {'kind':<14} {'positives / total':>20} {'spans':>8} {'seconds':>8}"
    )
    for run in runs:
        share = f"{run.n_positives} / {run.n_passages}"
        print(
            f"  {run.classifier_id:<10} {run.kind:<14} {share:>20} {run.n_spans:>8} "
            f"{run.seconds:>8.2f}   {run.classifier_name}"
        )


def _print_gold(concept: Concept, runs: list[PredictionRun], *, included: bool) -> None:
    """Say what happened to the concept's gold passages (Evaluate scores only those predicted)."""
    n_gold = len(concept.labelled_passages)
    if not n_gold:
        return
    if not included:
        print(f"  the concept's {n_gold} gold passages were not predicted (--no-gold)")
    elif runs and runs[0].n_gold_added:
        print(
            f"  + {runs[0].n_gold_added} of the concept's {n_gold} gold passages were predicted "
            "too (the rest are in the passages file), so Evaluate can score every classifier"
        )
    else:
        print(f"  the concept's {n_gold} gold passages are all in the passages file")


def _upload(runs: list[PredictionRun], out_dir: Path, settings: Settings) -> None:
    """Upload the files this run wrote (and nothing else of the concept's folder)."""
    # imported here: boto3 is loaded only when uploading
    from predictions_core.sync.s3 import upload_directory
    from predictions_core.sync.state import normalise_prefix

    concept_id = runs[0].concept_id
    concept_dir = out_dir / concept_id
    prefix = normalise_prefix(settings.s3_prefix) + concept_id
    report = upload_directory(
        local_dir=concept_dir,
        bucket=settings.s3_bucket,
        prefix=prefix,
        session=None,
        exclude_paths=_paths_not_written(concept_dir, [p for run in runs for p in run.written]),
    )
    if not report.ok:
        problems = (
            [report.error] if report.error else [f"{f.key}: {f.reason}" for f in report.failed]
        )
        raise SyncError(
            f"upload to s3://{settings.s3_bucket}/{prefix}/ failed: " + "; ".join(problems)
        )
    print(f"uploaded {len(report.uploaded)} files to s3://{settings.s3_bucket}/{prefix}/")


def _paths_not_written(concept_dir: Path, written: list[Path]) -> list[Path]:
    """Everything in `concept_dir` that this run did not write: other classifiers, stray files."""
    written_files = {path.resolve() for path in written}
    written_folders = {path.parent for path in written_files}
    excluded: list[Path] = []
    for child in concept_dir.resolve().iterdir():
        if child in written_folders:
            excluded += [path for path in child.iterdir() if path not in written_files]
        elif child not in written_files:
            excluded.append(child)
    return excluded
