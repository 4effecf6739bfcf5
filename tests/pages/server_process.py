"""AppTest runs that behave like one ``streamlit run`` process, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest


@contextmanager
def like_one_server_process() -> Iterator[None]:
    """Inside, AppTest runs are requests to one freshly started server: the first run is the
    first request, which Streamlit serves in its old ``pages/`` mode until
    ``ui.only_through_app`` switches that off; later runs keep what earlier runs left, as
    one server process does.

    AppTest itself forgets that switch before every run (it starts each run as if in a new
    process), which would send every click through the first-request path.
    """
    kept: list[bool | None] = [None]
    run, init = AppTest._run, PagesManager.__init__
    before = PagesManager.uses_pages_directory

    def run_keeping(self: AppTest, *args: Any, **kwargs: Any) -> AppTest:
        kept[0] = PagesManager.uses_pages_directory
        return run(self, *args, **kwargs)

    def init_keeping(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if kept[0] is not None:
            PagesManager.uses_pages_directory = kept[0]

    PagesManager.uses_pages_directory = None
    AppTest._run = run_keeping
    PagesManager.__init__ = init_keeping
    try:
        yield
    finally:
        AppTest._run = run
        PagesManager.__init__ = init
        PagesManager.uses_pages_directory = before
