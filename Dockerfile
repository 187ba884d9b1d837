# syntax=docker/dockerfile:1
# Predictions dashboard: the Streamlit pages and the HTTP routes, served by uvicorn on one port.
#   docker build -t predictions-dashboard .
#   docker run -p 8501:8501 predictions-dashboard          # bundled demo data
#   docker run -p 8501:8501 -e PREDICTIONS_S3_BUCKET=my-bucket ... predictions-dashboard
# Both stages use the same base image, so the virtualenv built in the first one runs unchanged
# in the second (its interpreter links point at the image's /usr/local/bin/python3).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
# uv comes from PyPI, pinned; it exists only in this stage.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first, from the lock file only: this layer is rebuilt only when they change.
COPY pyproject.toml uv.lock README.md ./
# The cache mount keeps downloaded wheels between builds without putting them in a layer.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
# Then the application. The project is installed editable (uv's default) on purpose: the
# package finds its bundled demo data relative to its source folder, /app/data/demo.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

FROM ${PYTHON_IMAGE} AS runtime
ARG APP_UID=10001
RUN groupadd --system --gid "${APP_UID}" app \
    && useradd --system --uid "${APP_UID}" --gid app --create-home --home-dir /home/app app
WORKDIR /app
# Code and virtualenv stay owned by root (read-only for the app). The data dir is the app's:
# synced data goes to data/processed, and the demo data's caches and feedback DB sit beside it.
COPY --from=builder /app /app
RUN mkdir -p /app/data/processed && chown -R app:app /app/data
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    PORT=8501
USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8501') + '/api/health', timeout=4)"]
# sh -c so that $PORT is expanded; exec so that uvicorn gets SIGTERM and shuts down cleanly.
CMD ["sh", "-c", "exec uvicorn app:app --host 0.0.0.0 --port \"${PORT:-8501}\""]
