"""The Users page's table of who may sign in, times in the browser's zone. See
docs/design.md#roles."""

from collections.abc import Sequence

import polars as pl

from core.access.users import UserRecord
from views import wording


def users_frame(users: Sequence[UserRecord], zone: str) -> pl.DataFrame:
    """One row per user, as the page shows it: last sign-in in ``zone``, or "never"."""
    return pl.DataFrame(
        {
            "Username": [u.username for u in users],
            "Name": [u.display_name for u in users],
            "Email": [u.email for u in users],
            "Role": [u.role.value for u in users],
            "Status": ["active" if u.active else "deactivated" for u in users],
            "Since": [wording.when(u.created_at) for u in users],
            "Last sign-in": [
                wording.when_in(u.last_sign_in_at, zone) if u.last_sign_in_at else "never"
                for u in users
            ],
        }
    )
