# syntax=docker/dockerfile:1
# campaign-service: the API (`serve`) and, with another command, the dispatcher (`worker`).
# Build:  docker build -t campaign-service .      Run: see docker-compose.yml and the README.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: a wheel of this project (migrations included, see pyproject's force-include) and
# wheels of every dependency, so the runtime stage installs offline and needs no compiler.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN pip wheel --wheel-dir /wheels .

# --- runtime: only the installed wheels, running as an unprivileged user.
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/campaign_service-*.whl

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/app app
# Numeric, so an orchestrator can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/app

# Listen on every interface inside the container; logs as JSON lines for the log collector.
# CAMPAIGN_SERVICE_HOME is only used when DATABASE_URL is unset (embedded PostgreSQL).
ENV CAMPAIGN_SERVICE_HOST=0.0.0.0 \
    CAMPAIGN_SERVICE_PORT=8000 \
    CAMPAIGN_SERVICE_LOG_FORMAT=json \
    CAMPAIGN_SERVICE_HOME=/home/app/data
EXPOSE 8000

# Liveness only (/health): a database outage must not get the API container restarted.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "campaign_service.observability.probe"]

# Applies pending migrations (under a PostgreSQL advisory lock, so replicas starting together
# are safe), then serves the API.
CMD ["campaign-service", "serve"]
