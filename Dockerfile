# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml constraints.txt README.md ./
COPY core ./core
RUN pip install --no-cache-dir -c constraints.txt .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 gridboard && mkdir /data && chown gridboard /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=gridboard app.py ./
COPY --chown=gridboard pages ./pages
COPY --chown=gridboard .streamlit ./.streamlit
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GRIDBOARD_DATABASE_URL=sqlite:////data/gridboard.db
USER gridboard
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
