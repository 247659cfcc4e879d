# The appeals worker image (also runs the codec server: `python codec_server.py`).
# Scale workers out: `docker compose up --scale worker=N`. No key or credential is baked in:
# they come from files mounted at run time (docker-compose.yml's secrets).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APPEALS_CONFIG_DIR=/app/config \
    APPEALS_DATA_DIR=/home/appeals/.appeals-data

RUN useradd --create-home --uid 10001 --user-group appeals
WORKDIR /app

# Dependencies first, in their own layer, so a source change does not reinstall them.
# Only [project].dependencies: the `embedded` extra (Temporal/PostgreSQL binaries) is not needed here.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY appeals ./appeals
COPY stack ./stack
COPY workflows ./workflows
COPY activities ./activities
COPY worker.py starter.py appealctl.py codec_server.py ./
COPY config ./config
RUN pip install --no-cache-dir .

USER appeals
# Prometheus metrics (APPEALS_METRICS_PORT); not published by docker-compose.yml.
EXPOSE 9464
# The codec server (APPEALS_CODEC_PORT), when the image runs codec_server.py.
EXPOSE 8081
CMD ["python", "worker.py"]
