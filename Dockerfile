# syntax=docker/dockerfile:1
# BASE: an image with Python 3.11 or newer at `python` and its venv module. The official
# python:3.13-slim ships; `make image-test` builds on a local Debian trixie (same Python 3.13)
# because no registry is reachable where it runs.
ARG BASE=python:3.13-slim

# Build stage: the virtualenv with GridBoard and its pinned dependencies.
FROM ${BASE} AS build
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The dependencies first, in a layer of their own: a change to the code or the README reuses it.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > requirements.txt \
    && pip install --no-cache-dir -c constraints.txt -r requirements.txt
COPY README.md ./
COPY core ./core
COPY api ./api
RUN pip install --no-cache-dir --no-deps -c constraints.txt .

# Final stage: no build tools, a non-root user, data in a volume, configuration by environment.
FROM ${BASE}
RUN useradd --create-home --uid 10001 gridboard && mkdir /data && chown 10001 /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=10001 app.py ./
COPY --chown=10001 pages ./pages
COPY --chown=10001 views ./views
COPY --chown=10001 .streamlit/config.toml ./.streamlit/config.toml
# The SQLite database lands in the /data volume unless a database URL is given (environment or
# secret file: no URL here, which would win over the file). Streamlit reads its port and
# address from STREAMLIT_SERVER_*: on the host's network, move it with -e STREAMLIT_SERVER_PORT.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GRIDBOARD_DATA_DIR=/data \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0
USER 10001
VOLUME ["/data"]
EXPOSE 8501 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['STREAMLIT_SERVER_PORT']}/_stcore/health\", timeout=4)"]
CMD ["streamlit", "run", "app.py"]
