"""`predictions feedback export [--out FILE]` / `predictions feedback import FILE` (CONTRACT §4).

Both work on the feedback database of the settings (`PREDICTIONS_FEEDBACK_DB`, or its parts), so
moving a SQLite file into PostgreSQL is an export with one setting and an import with the other.
The database is named in messages without its password.
"""

from __future__ import annotations

import argparse
import sys

from predictions_core.data.files import atomic_writer
from predictions_core.data.location import app_settings
from predictions_core.feedback.store import FeedbackStore
from predictions_core.feedback.transfer import export_lines, import_file

MAX_PROBLEMS_SHOWN = 50


def run_feedback_command(args: argparse.Namespace) -> int:
    """Export or import judgements; exit 0, or 1 when an import skipped bad lines."""
    store = FeedbackStore(app_settings().resolved_feedback_db)
    if args.feedback_command == "export":
        return _export(store, args)
    return _import(store, args)


def _export(store: FeedbackStore, args: argparse.Namespace) -> int:
    count = 0
    if args.out is None:
        for line in export_lines(store):
            sys.stdout.buffer.write(line)
            count += 1
        sys.stdout.buffer.flush()
    else:
        try:
            # the whole file or none of it: a backup cut short must not look complete
            with atomic_writer(args.out) as handle:
                for line in export_lines(store):
                    handle.write(line)
                    count += 1
        except OSError as error:
            print(f"error: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
            return 2
    where = f" to {args.out}" if args.out is not None else ""
    print(f"exported {count} judgement(s) from {store.description}{where}", file=sys.stderr)
    return 0


def _import(store: FeedbackStore, args: argparse.Namespace) -> int:
    report = import_file(store, args.file)
    print(
        f"imported {report.added} new judgement(s) into {store.description} from {report.source}"
        f" ({report.already_there} already there, {len(report.problems)} line(s) skipped)"
    )
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        print(f"skipped {problem}", file=sys.stderr)
    hidden = len(report.problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        print(f"... and {hidden} more skipped line(s)", file=sys.stderr)
    return 1 if report.problems else 0
