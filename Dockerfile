# The Switchboard bot: `switchboard run` serves every platform whose token is set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SWITCHBOARD_DATA_DIR=/home/switchboard/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY adapters ./adapters
COPY bots ./bots
RUN pip install . && useradd --create-home --uid 10001 switchboard

USER switchboard
EXPOSE 8000
# Alive when the HTTP app answers; platforms without HTTP are watched by the restart policy.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request; port = os.environ.get(\"SWITCHBOARD_METRICS_PORT\") or os.environ.get(\"SWITCHBOARD_HTTP_PORT\", \"8000\"); urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)"
ENTRYPOINT ["switchboard"]
CMD ["run"]
