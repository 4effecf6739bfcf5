# syntax=docker/dockerfile:1
# Build stage: the virtualenv with GridBoard and its pinned dependencies.
FROM python:3.12-slim AS build
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml constraints.txt README.md ./
COPY core ./core
COPY api ./api
RUN pip install --no-cache-dir -c constraints.txt .

# Final stage: no build tools, a non-root user, data in a volume, configuration by environment.
# It runs the dashboard by default, `gridboard api` (port 8000) or `gridboard worker` when told.
FROM python:3.12-slim
RUN useradd --create-home --uid 10001 gridboard && mkdir /data && chown 10001 /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=10001 app.py ./
COPY --chown=10001 pages ./pages
COPY --chown=10001 views ./views
COPY --chown=10001 .streamlit/config.toml ./.streamlit/config.toml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GRIDBOARD_DATABASE_URL=sqlite:////data/gridboard.db
USER 10001
VOLUME ["/data"]
EXPOSE 8501 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
