"""`predictions` command line (CONTRACT §4): every sub-command's flags, and the dispatch.

Each sub-command runs and prints in `cli/{predict,sync,demo,feedback}.py`, imported only when
chosen (so `predictions predict` never loads boto3); the library modules they call return
results and raise `PredictionsError`, printed here as `error: ...` with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from predictions_core.data.location import forget_settings
from predictions_core.errors import PredictionsError


def build_parser() -> argparse.ArgumentParser:
    """The `predictions` parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="predictions", description="Predictions dashboard: predict, sync, demo data."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="run candidate classifiers over a passages file")
    predict.add_argument("qid", help="concept id, e.g. Q218")
    predict.add_argument("--passages", type=Path, required=True, help="JSONL, Parquet or Feather")
    predict.add_argument("--concept", type=Path, help="concept JSON (default: found in --out)")
    predict.add_argument(
        "--classifier",
        action="append",
        dest="classifiers",
        help="classifier kind: keyword, keyword-cased, stemmed, rules (repeatable; default all)",
    )
    predict.add_argument("--out", type=Path, help="data dir to write into (default: settings)")
    predict.add_argument("--save-to-s3", action="store_true", help="upload what was written")
    predict.add_argument(
        "--no-gold",
        action="store_true",
        help="do not also predict the concept's gold labelled passages",
    )

    sync = commands.add_parser("sync", help="sync the predictions bucket into the data dir once")
    sync.add_argument("--bucket")
    sync.add_argument("--prefix")
    sync.add_argument("--data-dir", type=Path)

    demo = commands.add_parser("demo", help="rebuild the bundled demo data in data/demo")
    demo.add_argument("--out", type=Path, help="where to write (default: data/demo)")

    feedback = commands.add_parser(
        "feedback", help="reviewers' judgements as JSONL: back up, or move between databases"
    )
    feedback_commands = feedback.add_subparsers(dest="feedback_command", required=True)
    feedback_export = feedback_commands.add_parser(
        "export", help="write every judgement (with its history) as JSONL"
    )
    feedback_export.add_argument("--out", type=Path, help="file to write (default: stdout)")
    feedback_import = feedback_commands.add_parser(
        "import", help="add the judgements of an export file (idempotent)"
    )
    feedback_import.add_argument("file", type=Path, help="a `predictions feedback export` file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (2 for an error the user can fix)."""
    args = build_parser().parse_args(argv)
    # a command is a process start: it reads the settings of the environment it runs in
    forget_settings()
    try:
        if args.command == "predict":
            from predictions_core.cli.predict import run_predict_command

            return run_predict_command(args)
        if args.command == "sync":
            from predictions_core.cli.sync import run_sync_command

            return run_sync_command(args)
        if args.command == "feedback":
            from predictions_core.cli.feedback import run_feedback_command

            return run_feedback_command(args)
        from predictions_core.cli.demo import run_demo_command

        return run_demo_command(args)
    except PredictionsError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
