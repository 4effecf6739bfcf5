"""What a sidebar page switch keeps from the runs before it, and what it must not: the app
process's settled heap (``views.resources.settle_heap``)."""

from __future__ import annotations

import gc
import weakref

from tests.pages.conftest import OpenApp


class _Cycle:
    """An object that refers to itself: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.itself = self


def test_the_heap_is_settled_once_and_what_runs_make_is_still_collected(
    open_app: OpenApp,
) -> None:
    at = open_app(as_user="mona")
    frozen = gc.get_freeze_count()
    assert frozen > 0  # the modules' objects are left out of the full collections

    for page in ("pages/components.py", "pages/reports.py", "pages/overview.py"):
        at.switch_page(page).run()
        assert not at.exception, at.exception
    # never frozen again: a later freeze would keep a session's cyclic garbage for good
    assert gc.get_freeze_count() <= frozen

    made_after = _Cycle()
    gone = weakref.ref(made_after)
    del made_after
    gc.collect()
    assert gone() is None
