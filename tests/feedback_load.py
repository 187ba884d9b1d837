"""Many reviewers judging through several app processes: shared by the concurrency tests and
`benchmarks/bench_feedback.py`.

- `AppProcesses`: N `uvicorn app:app` processes on 127.0.0.1 sharing one data dir and one
  feedback database (a SQLite file or a PostgreSQL URL); `restart(i)` replaces one.
- `judge_concurrently`: `reviewers` threads, each posting `per_reviewer` judgements of distinct
  passages, alternating between the processes; every answer with its status and latency.
- `judgement_ids`: the judgements one process lists for a classifier.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.api_support import api_environment, start_uvicorn, stop_process

QID, CLASSIFIER = "Q218", "grld4c4r"
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Answer:
    """One POST as the client saw it."""

    reviewer: str
    passage_id: str
    status: int
    latency_s: float
    body: dict[str, Any]


class AppProcesses:
    """`count` app processes reading `data_dir`, writing judgements to `feedback_db`."""

    def __init__(self, data_dir: Path, work_dir: Path, feedback_db: str, count: int = 2):
        self.environment = {
            **api_environment(data_dir, work_dir),
            "PREDICTIONS_FEEDBACK_DB": feedback_db,
        }
        self.processes: list[Any] = [None] * count
        self.urls: list[str] = [""] * count
        self.logs: list[Path] = []
        try:
            # started side by side: start-up (imports, warm-up) is most of a test's time
            with ThreadPoolExecutor(max_workers=count) as pool:
                list(pool.map(self._start, range(count)))
        except BaseException:
            self.stop()
            raise

    def _start(self, index: int) -> None:
        process, url, log = start_uvicorn("app:app", self.environment)
        self.processes[index], self.urls[index] = process, url
        self.logs.append(log)

    def restart(self, index: int) -> None:
        """Stop process `index` (SIGTERM, as a deploy does) and start a new one in its place."""
        stop_process(self.processes[index])
        self._start(index)

    def stop(self) -> None:
        for process in self.processes:
            if process is not None:
                stop_process(process)
        for log in self.logs:
            log.unlink(missing_ok=True)


def passage_ids(base_url: str, count: int) -> list[str]:
    """The first `count` passage ids of the classifier (the judgements' targets)."""
    answer = httpx.get(
        f"{base_url}/api/predictions/{QID}/{CLASSIFIER}",
        params={"page_size": count},
        timeout=REQUEST_TIMEOUT_S,
    )
    answer.raise_for_status()
    return [p["id"] for p in answer.json()["predictions"]]


def judge_concurrently(
    urls: list[str], passages: list[str], reviewers: int, per_reviewer: int
) -> list[Answer]:
    """`reviewers` threads at once, each judging `per_reviewer` distinct passages.

    Reviewer r's k-th judgement goes to process (r + k) % len(urls), so every reviewer writes
    through every process, and each (reviewer, passage) pair is judged once: every
    acknowledged judgement stays an effective one, readable in the listing.
    """
    assert per_reviewer <= len(passages)
    verdicts = ("correct", "incorrect", "unsure")

    def reviewer_session(r: int) -> list[Answer]:
        answers = []
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            for k in range(per_reviewer):
                passage_id = passages[(r + k) % len(passages)]
                body = {
                    "passage_id": passage_id,
                    "judgement": verdicts[(r + k) % 3],
                    "note": f"reviewer {r}, judgement {k}",
                    "reviewer": f"reviewer-{r:02d}",
                }
                url = f"{urls[(r + k) % len(urls)]}/api/feedback/{QID}/{CLASSIFIER}"
                started = time.perf_counter()
                try:
                    answer = client.post(url, json=body)
                    status, payload = answer.status_code, answer.json()
                except (httpx.HTTPError, json.JSONDecodeError) as error:
                    status, payload = 0, {"error": repr(error)}
                elapsed = time.perf_counter() - started
                answers.append(Answer(body["reviewer"], passage_id, status, elapsed, payload))
        return answers

    with ThreadPoolExecutor(max_workers=reviewers) as pool:
        sessions = list(pool.map(reviewer_session, range(reviewers)))
    return [answer for session in sessions for answer in session]


def judgement_ids(base_url: str) -> set[int]:
    """The ids of the effective judgements process `base_url` lists for the classifier."""
    answer = httpx.get(f"{base_url}/api/feedback/{QID}/{CLASSIFIER}", timeout=REQUEST_TIMEOUT_S)
    answer.raise_for_status()
    return {j["judgement_id"] for j in answer.json()["judgements"]}


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]
