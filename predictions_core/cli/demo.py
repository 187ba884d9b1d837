"""`predictions demo [--out DIR]`: rebuild the bundled demo data, print what was written."""

from __future__ import annotations

import argparse

from predictions_core.data.location import DEMO_DATA_DIR
from predictions_core.demo.build import build_demo


def run_demo_command(args: argparse.Namespace) -> int:
    """Rebuild the demo data; returns the exit code."""
    out_dir = args.out or DEMO_DATA_DIR
    runs = build_demo(out_dir)
    n_passages = runs[0].n_passages if runs else 0
    print(f"demo data rebuilt in {out_dir}: {n_passages} synthetic passages")
    for run in runs:
        print(
            f"  {run.concept_id:<6} {run.classifier_id:<9} {run.kind:<14} "
            f"{run.n_positives:>4} / {run.n_passages} positive, {run.n_spans} spans"
        )
    return 0
