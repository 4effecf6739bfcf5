"""Sign-in tokens end with a password reset, a role change or the user's removal; machine
tokens are shown once, stored as a hash, note their last use, expire and are revoked."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from core.access.api_tokens import (
    create_api_token,
    list_api_tokens,
    read_machine_token,
    revoke_api_token,
)
from core.access.sign_in_tokens import issue_sign_in_token, sign_in_claims, signing_key
from core.access.users import get_user, set_password, set_role
from core.cli import main as gridboard
from core.config import get_settings
from core.domain import SYSTEM_ACTOR, Role
from core.errors import InvalidInput, TokenRefusal
from core.models import ApiToken, User, utc_now
from tests.api.conftest import MANAGER_PASSWORD, USER_PASSWORD, bearer, sign_in


def test_a_password_reset_ends_earlier_sign_in_tokens(client, people):
    token = bearer(sign_in(client, "ulf", USER_PASSWORD))
    assert client.get("/components", headers=token).status_code == 200
    with people.write() as session:
        set_password(
            session=session, actor=SYSTEM_ACTOR, username="ulf", password="fresh-pass-2024"
        )
    refused = client.get("/components", headers=token)
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "the password changed after this token was issued: sign in again"
    )
    assert (
        client.get(
            "/components", headers=bearer(sign_in(client, "ulf", "fresh-pass-2024"))
        ).status_code
        == 200
    )


def test_a_role_change_ends_earlier_sign_in_tokens_both_ways(client, people):
    manager = bearer(sign_in(client, "mona", MANAGER_PASSWORD, "manager"))
    user = bearer(sign_in(client, "ulf", USER_PASSWORD))
    with people.write() as session:
        set_role(session=session, actor=SYSTEM_ACTOR, username="ulf", role=Role.MANAGER)
        set_role(session=session, actor=SYSTEM_ACTOR, username="mona", role=Role.USER)
    for token in (manager, user):
        refused = client.get("/components", headers=token)
        assert refused.status_code == 401
        assert refused.json()["detail"] == (
            "the role changed after this token was issued: sign in again"
        )
    demoted = bearer(sign_in(client, "mona", MANAGER_PASSWORD))
    assert client.get("/auth/users/me", headers=demoted).json()["role"] == "user"


def test_a_removed_user_s_token_is_refused(client, people):
    token = bearer(sign_in(client, "ulf", USER_PASSWORD))
    with people.write() as session:
        session.execute(delete(User).where(User.username == "ulf"))
    refused = client.get("/components", headers=token)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token's user no longer exists"


def test_a_removed_user_s_token_with_a_bad_query_hears_about_the_query_first(client, people):
    """The list reads the token's user in its own session, after the query is checked (as a
    post reads it after its body): a forged or expired token is still refused first."""
    token = bearer(sign_in(client, "ulf", USER_PASSWORD))
    with people.write() as session:
        session.execute(delete(User).where(User.username == "ulf"))
    bad_query = client.get("/components", params={"limit": 0}, headers=token)
    assert bad_query.status_code == 422
    assert client.get("/components", headers=token).status_code == 401
    forged = {"Authorization": "Bearer not.a.token"}
    assert client.get("/components", params={"limit": 0}, headers=forged).status_code == 401


def test_a_machine_token_notes_its_use_when_it_reads_the_component_list(client, people):
    with people.write() as session:
        made = create_api_token(session=session, actor=SYSTEM_ACTOR, name="historian", scope="read")
    listed = client.get("/components", headers=bearer(made.secret))
    assert listed.status_code == 200 and listed.json() == []
    with people.read() as session:
        used = list_api_tokens(session=session)[0].last_used_at
    assert used is not None and utc_now() - used < timedelta(minutes=5)
    with people.write() as session:
        revoke_api_token(session=session, actor=SYSTEM_ACTOR, token_id=made.record.id)
    refused = client.get("/components", headers=bearer(made.secret))
    assert refused.status_code == 401


def test_a_checked_sign_in_token_still_expires_and_binds_to_its_key(people):
    with people.read() as session:
        mona = get_user(session=session, username="mona")
    key = signing_key("k" * 40)
    token = issue_sign_in_token(mona, role=Role.MANAGER, key=key, minutes=30).token
    for _ in range(2):  # the second check is the remembered one
        assert sign_in_claims(token, key=key).role is Role.MANAGER
    later = utc_now() + timedelta(minutes=31)
    with pytest.raises(TokenRefusal, match="the token has expired: sign in again"):
        sign_in_claims(token, key=key, now=lambda: later)
    with pytest.raises(TokenRefusal, match="the token is not valid: sign in again"):
        sign_in_claims(token, key=signing_key("o" * 40))


def test_a_machine_token_is_stored_as_a_hash_and_notes_its_last_use(people):
    with people.write() as session:
        made = create_api_token(session=session, actor=SYSTEM_ACTOR, name="scada", scope="WRITE")
    with people.read() as session:
        row = session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    assert made.secret not in repr(row.__dict__)
    assert row.last_used_at is None
    actor = read_machine_token(people, made.secret)
    assert actor.username == "token:scada" and actor.role is Role.MANAGER
    with people.read() as session:
        used = list_api_tokens(session=session)[0].last_used_at
    assert used is not None and utc_now() - used < timedelta(minutes=5)


def test_machine_tokens_expire_and_are_revoked(people):
    with people.write() as session:
        short = create_api_token(
            session=session, actor=SYSTEM_ACTOR, name="trial", scope="read", expires_days=1
        )
    later = utc_now() + timedelta(days=2)
    with pytest.raises(TokenRefusal, match="'trial' is expired"):
        read_machine_token(people, short.secret, now=lambda: later)
    assert read_machine_token(people, short.secret).role is Role.USER
    with people.write() as session:
        revoke_api_token(session=session, actor=SYSTEM_ACTOR, token_id=short.record.id)
    with pytest.raises(TokenRefusal, match="'trial' is revoked"):
        read_machine_token(people, short.secret)
    # a revoked token's name may be used again
    with people.write() as session:
        create_api_token(session=session, actor=SYSTEM_ACTOR, name="trial", scope="read")


def test_a_token_needs_a_name_a_scope_and_a_sane_expiry(people):
    with people.write() as session, pytest.raises(InvalidInput) as refused:
        create_api_token(
            session=session, actor=SYSTEM_ACTOR, name=" ", scope="admin", expires_days=0
        )
    assert {p.field for p in refused.value.problems} == {"name", "scope", "expires"}
    with people.write() as session:
        create_api_token(session=session, actor=SYSTEM_ACTOR, name="feed", scope="read")
    with people.write() as session, pytest.raises(InvalidInput, match="already exists"):
        create_api_token(session=session, actor=SYSTEM_ACTOR, name="feed", scope="write")


def test_the_cli_creates_lists_and_revokes_tokens(people, client, capsys):
    url = ["--database-url", people.engine.url.render_as_string(hide_password=False)]
    assert (
        gridboard([*url, "create-token", "scada-export", "--scope", "write", "--expires", "30"])
        == 0
    )
    printed = capsys.readouterr().out.splitlines()
    secret = printed[-1]
    assert secret.startswith("gbt_") and "shown only now" in printed[0]
    assert client.get("/auth/users/me", headers=bearer(secret)).json() == {
        "username": "token:scada-export", "role": "manager", "manager": True, "kind": "token",
    }  # fmt: skip
    assert gridboard([*url, "list-tokens"]) == 0
    listing = capsys.readouterr().out
    assert "scada-export" in listing and "active" in listing and secret not in listing
    token_id = listing.splitlines()[1].split()[0]
    assert gridboard([*url, "revoke-token", token_id]) == 0
    assert client.get("/components", headers=bearer(secret)).status_code == 401
    assert gridboard([*url, "revoke-token", "999"]) == 1
    assert "API token 999 does not exist" in capsys.readouterr().err


def test_a_machine_token_expires_after_90_days_unless_told_otherwise(people, monkeypatch):
    moment = utc_now()

    def made(name: str, days: int | None = None) -> ApiToken:
        with people.write() as session:
            new = create_api_token(
                session=session, actor=SYSTEM_ACTOR, name=name, scope="read",
                expires_days=days, now=lambda: moment,
            )  # fmt: skip
        with people.read() as session:
            row = session.get(ApiToken, new.record.id)
            assert row is not None
            return row

    def lifetime(row: ApiToken) -> timedelta:
        assert row.expires_at is not None, f"{row.name} never expires"
        return row.expires_at.replace(tzinfo=moment.tzinfo) - moment

    assert lifetime(made("historian")) == timedelta(days=90)
    assert lifetime(made("trial", days=7)) == timedelta(days=7)
    monkeypatch.setenv("GRIDBOARD_API_TOKEN_DAYS", "30")
    get_settings.cache_clear()
    try:
        assert lifetime(made("feed")) == timedelta(days=30)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
