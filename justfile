# Every recipe wraps a plain command; nothing needs `just` to work (see README).

import? 'infra/deploy.just'

# start the dashboard and its HTTP routes on port 8501
run:
    uv run streamlit run app.py

# the whole test suite (what CI runs)
test:
    uv run pytest

# run candidate classifiers for a concept: just predict Q123 --passages FILE [--concept FILE]
predict qid *args:
    uv run predictions predict {{qid}} {{args}}

# sync the configured bucket into the data dir once
sync *args:
    uv run predictions sync {{args}}

# rebuild the bundled demo data in data/demo
demo:
    uv run predictions demo

# speed benchmarks; tables go to docs/performance.md
bench:
    uv run python benchmarks/bench_core.py
    uv run python benchmarks/bench_pages.py
    uv run python benchmarks/bench_api.py
    uv run python benchmarks/bench_sync.py
    uv run python benchmarks/bench_documents.py
    uv run python benchmarks/bench_feedback.py
    uv run python benchmarks/bench_browser.py

# lint and format check
lint:
    uv run ruff check .
    uv run ruff format --check .
