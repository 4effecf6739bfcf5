"""Every route but the bulk imports takes a small body: its token is checked before a byte of the
body is read, and a body past ``SMALL_BODY_BYTES`` is refused (413) as it arrives.
See docs/architecture.md#request-bodies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from api import errors
from api.deps import bearer, check_before_body
from core.errors import GridBoardError

# The largest body of a route that is not an import: a measurement is about 100 bytes, a
# component or a report request a few hundred, a sign-in form less.
SMALL_BODY_BYTES = 16_384
IMPORT_ROUTES = "POST /measurements/import or POST /components/import"
# The rest of a refused body is not read: the connection ends with the answer.
CLOSE = {"Connection": "close"}


def too_large(path: str) -> JSONResponse:
    detail = (
        f"the body is larger than {SMALL_BODY_BYTES} bytes, the most this route takes: send "
        f"bulk data as a file to {IMPORT_ROUTES}"
    )
    body = {"detail": detail} if errors.under_reference(path) else errors.refusal(detail)
    return JSONResponse(body, status_code=413, headers=CLOSE)


def refused(error: GridBoardError, path: str) -> Response:
    answer = errors.answer(error, path)
    answer.headers.update(CLOSE)
    return answer


def declared_length(request: Request) -> int | None:
    """The Content-Length, or ``None`` when the body is chunked (or has no length)."""
    value = request.headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def carries_body(request: Request) -> bool:
    length = declared_length(request)
    return (length is not None and length > 0) or "transfer-encoding" in request.headers


async def read_small_body(receive: Receive) -> bytes | None:
    """The body, counted as it arrives; ``None`` as soon as it passes ``SMALL_BODY_BYTES``
    (the rest is never read), or when the client leaves."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > SMALL_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that hands out ``body`` first, then what the client sends next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _reads_bearer(dependant: Dependant) -> bool:
    return dependant.call is bearer or any(_reads_bearer(d) for d in dependant.dependencies)


class SmallBodyRoute(APIRoute):
    """A route whose body is at most ``SMALL_BODY_BYTES``. For a route that needs a token,
    a request carrying a body gets 401 before any of it is read if its token is missing or
    is a forged or expired sign-in token (``check_before_body``); then a declared length
    past the limit gets 413 at once, and a chunked body 413 once it passes the limit."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        needs_token = _reads_bearer(self.dependant)

        async def guarded(request: Request) -> Response:
            if not carries_body(request):
                return await handle(request)
            if needs_token:
                try:
                    check_before_body(
                        request.headers.get("authorization"), request.app.state.signing_key
                    )
                except GridBoardError as error:
                    return refused(error, request.url.path)
            length = declared_length(request)
            if length is not None and length > SMALL_BODY_BYTES:
                return too_large(request.url.path)
            body = await read_small_body(request.receive)
            if body is None:
                return too_large(request.url.path)
            return await handle(Request(request.scope, replay(body, request.receive)))

        return guarded
