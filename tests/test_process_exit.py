"""A process that loads a large table and exits at once exits cleanly.

The store starts a background scan after loading a large table. A thread still inside DuckDB
when the interpreter finalises aborts the process (`terminate called after throwing an
instance of ''`, exit 134); before the fix every such run aborted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from predictions_core.data.warm_up import WARM_UP_MIN_ROWS

RUNS = 3

LOAD_AND_RETURN = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from predictions_core.data.store import PredictionStore
    from predictions_core.settings import Settings

    data_dir, cache_dir = Path(sys.argv[1]), Path(sys.argv[2])
    settings = Settings(data_dir=data_dir, cache_dir=cache_dir, skip_s3_sync=True)
    loaded = PredictionStore(settings).predictions("Q1", "clf")
    print(loaded.n_passages)
    """
)


def test_loading_a_large_table_and_exiting_at_once_never_aborts(tmp_path: Path):
    rows = WARM_UP_MIN_ROWS + 10_000  # above the threshold: the background scan starts
    path = tmp_path / "data" / "Q1" / "clf" / "predictions.jsonl"
    path.parent.mkdir(parents=True)
    with path.open("w") as sink:
        for i in range(rows):
            sink.write(json.dumps({"id": f"p{i}", "text": f"forest carbon {i}", "spans": []}))
            sink.write("\n")
    # the first run parses the file, the later ones memory-map the cache, as a restart does
    for run in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", LOAD_AND_RETURN, str(path.parents[2]), str(tmp_path / "cache")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "terminate called" not in done.stderr, f"run {run}: {done.stderr}"
        assert done.returncode == 0, f"run {run} exited {done.returncode}: {done.stderr}"
        assert done.stdout.strip() == str(rows)
