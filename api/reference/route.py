"""How ``/b`` answers GridBoard's refusals as the reference service does: a rule a body breaks
is FastAPI's list ``detail``, and a manager's route refuses a user with 401.
See docs/architecture.md#the-reference-contract-under-b."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError

from api import errors
from api.small_bodies import SmallBodyRoute
from core.errors import InvalidInput, MissingPermission


@contextmanager
def as_validation_errors(given: Mapping[str, Any], where: str = "body") -> Iterator[None]:
    """``InvalidInput`` from core, answered as FastAPI answers a body it refuses (422,
    ``[{type, loc, msg, input}]``), each problem at its field with the value given."""
    try:
        yield
    except InvalidInput as error:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": (where, problem.field) if problem.field in given else (where,),
                    "msg": problem.reason,
                    "input": given.get(problem.field, dict(given)),
                }
                for problem in error.problems
            ]
        ) from None


def not_enough_permissions(error: MissingPermission) -> Response:
    """The reference refuses a token without the manager scope as it refuses no token: 401."""
    answer = errors.answer(error, errors.REFERENCE_PREFIX)
    answer.status_code = 401
    answer.headers["WWW-Authenticate"] = 'Bearer scope="manager"'
    return answer


class ReferenceRoute(SmallBodyRoute):
    """A route under ``/b``: a small body checked as every route's is, and a user refused
    a manager's route with 401 (the reference's answer) instead of GridBoard's 403."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handle(request)
            except MissingPermission as error:
                return not_enough_permissions(error)

        return translated
