"""The reference service's contract under ``/b``, for clients written against it: a thin
adapter over the API's routes and core. See docs/reference.md#moving-from-the-reference-service."""

from fastapi import APIRouter

from api.errors import REFERENCE_PREFIX
from api.reference import auth, components, measurements, reports

TAG = "/b: the reference service's contract"

router = APIRouter(prefix=REFERENCE_PREFIX, tags=[TAG])
for module in (auth, components, measurements, reports):
    router.include_router(module.router)
