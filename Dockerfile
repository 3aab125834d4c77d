# Upwatch's image: the wheel built in one stage, installed in a slim one that runs as a
# non-root user, with its SQLite data (and generated secret key) on the /data volume.
#   docker build -t upwatch .
#   docker run -p 8501:8501 -v upwatch-data:/data -e UPWATCH_ADMIN_PASSWORD=... upwatch
# deploy/compose.yaml runs it on PostgreSQL with probe workers (`upwatch worker`).

FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
# Upwatch's wheel and those of everything it needs, PostgreSQL's driver included.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UPWATCH_DATA_DIR=/data
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "upwatch[postgres]" \
    && useradd --system --uid 10001 --create-home --home-dir /home/upwatch upwatch \
    && mkdir -m 0700 /data && chown upwatch:upwatch /data
USER upwatch
WORKDIR /home/upwatch
VOLUME ["/data"]
EXPOSE 8501
# Under a base path (STREAMLIT_SERVER_BASE_URL_PATH=upwatch), /healthz is under it too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; base = os.environ.get('STREAMLIT_SERVER_BASE_URL_PATH', '').strip('/'); urllib.request.urlopen('http://127.0.0.1:8501' + ('/' + base if base else '') + '/healthz', timeout=4)"]
# Exec form: `upwatch` is PID 1 and gets docker stop's SIGTERM itself, and stops cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["upwatch"]
CMD ["serve", "--server.address=0.0.0.0", "--server.port=8501"]
