"""GridBoard's HTTP API (FastAPI): it turns HTTP into calls of ``core``, which checks roles and
rules itself, and answers and errors back into HTTP. See docs/reference.md#the-http-api."""
