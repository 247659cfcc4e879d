# The appeals image: the worker (default), the intake API (`python api_server.py`) and the codec
# server (`python codec_server.py`). Scale out: `docker compose up --scale worker=N`. No key or
# credential is baked in: they come from files mounted at run time (docker-compose.yml's secrets).
#
# The base is pinned by version and by the digest of its multi-platform index (amd64 and arm64);
# to move it, change both together.
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APPEALS_CONFIG_DIR=/app/config \
    APPEALS_DATA_DIR=/home/appeals/.appeals-data

RUN useradd --create-home --uid 10001 --user-group appeals
WORKDIR /app

# Dependencies first, in their own layer, so a source change does not reinstall them: exactly the
# pins and hashes of requirements-runtime.lock (the runtime dependencies and the build backend,
# at the versions of requirements.lock; not the `embedded` or `dev` extras). Made by `python3 dev.py lock`.
COPY requirements-runtime.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-runtime.lock

COPY pyproject.toml README.md ./
COPY appeals ./appeals
COPY stack ./stack
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY devstack ./devstack
COPY tools ./tools
COPY worker.py starter.py appealctl.py codec_server.py api_server.py ./
COPY config ./config
# The project alone: everything it needs, its build backend included, came from the lock above.
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

USER appeals
# Prometheus metrics (APPEALS_METRICS_PORT); not published by docker-compose.yml.
EXPOSE 9464
# The intake API (APPEALS_API_PORT), when the image runs api_server.py.
EXPOSE 8000
# The codec server (APPEALS_CODEC_PORT), when the image runs codec_server.py.
EXPOSE 8081
CMD ["python", "worker.py"]
