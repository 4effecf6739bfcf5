"""GridBoard's HTTP API (FastAPI): routes, request and response models, and who is calling.

Everything it does is a call into ``core``, which checks roles and rules itself; this package
only turns HTTP into those calls and their answers and errors back into HTTP.
"""
