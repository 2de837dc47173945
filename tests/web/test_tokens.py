"""One module signs and reads every token we issue: each purpose has its own salt and lifetime,
a token for one purpose means nothing to another, and a refusal says expired or invalid."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer

from learningday.settings import get_settings
from learningday.tokens import Purpose, TokenRefused, read, sign

ROOT = Path(__file__).resolve().parents[2]
DAY = 24 * 3600


def made_ago(monkeypatch: pytest.MonkeyPatch, seconds: float, purpose: Purpose, payload: object) -> str:
    """A token signed `seconds` ago (itsdangerous stamps tokens with time.time())."""
    now = time.time()
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: now - seconds)
        return sign(purpose, payload)


def test_a_token_reads_back_for_its_own_purpose_only(database_url: str) -> None:
    for purpose in Purpose:
        token = sign(purpose, [7, "x"])
        assert read(purpose, token) == [7, "x"]
        for other in Purpose:
            if other is not purpose:
                with pytest.raises(TokenRefused) as refused:
                    read(other, token)
                assert refused.value.invalid and not refused.value.expired


def test_every_purpose_has_its_own_salt_and_a_maximum_age(database_url: str) -> None:
    salts = [purpose.salt for purpose in Purpose]
    assert len(set(salts)) == len(salts)
    for purpose in Purpose:
        assert purpose.max_age() > dt.timedelta(0)


def test_a_tampered_token_or_one_signed_with_another_key_is_invalid(database_url: str) -> None:
    token = sign(Purpose.CHECKIN_LINK, [1, "2026-12-03"])
    forged = URLSafeTimedSerializer("another-secret", salt=Purpose.CHECKIN_LINK.salt).dumps([1, "2026-12-03"])
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, "", "not.a.token"):
        with pytest.raises(TokenRefused) as refused:
            read(Purpose.CHECKIN_LINK, bad)
        assert refused.value.invalid


@pytest.mark.parametrize(
    ("purpose", "lifetime"),
    [
        (Purpose.CHECKIN_LINK, dt.timedelta(days=14)),
        (Purpose.CLAIM_FORM_LINK, dt.timedelta(days=7)),
        (Purpose.FEED_LINK, dt.timedelta(days=365)),
        (Purpose.EXCUSE_LINK, dt.timedelta(days=30)),
    ],
)
def test_links_that_never_expired_now_do(
    database_url: str, monkeypatch: pytest.MonkeyPatch, purpose: Purpose, lifetime: dt.timedelta
) -> None:
    assert purpose.max_age() == lifetime
    fresh = made_ago(monkeypatch, lifetime.total_seconds() - 60, purpose, 1)
    assert read(purpose, fresh) == 1
    stale = made_ago(monkeypatch, lifetime.total_seconds() + 60, purpose, 1)
    with pytest.raises(TokenRefused) as refused:
        read(purpose, stale)
    assert refused.value.expired and not refused.value.invalid


def test_lifetimes_set_in_settings_are_followed(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    assert Purpose.LOGIN_LINK.max_age() == dt.timedelta(minutes=settings.login_link_max_age_minutes)
    assert Purpose.SESSION.max_age() == dt.timedelta(hours=settings.session_max_age_hours)


def test_links_already_sent_in_the_old_format_keep_working(database_url: str) -> None:
    """Links signed before this module existed (same key, same salt, same format) still read."""
    secret = get_settings().secret_key.get_secret_value()
    excuse = URLSafeTimedSerializer(secret, salt="learningday.excuse").dumps([3, 4])
    approval = URLSafeTimedSerializer(secret, salt="learningday.claim-approval").dumps([1, 2, 1, "t", 2_000_000_000])
    login = URLSafeTimedSerializer(secret, salt="learningday.login").dumps({"p": 1, "n": "nonce"})
    assert read(Purpose.EXCUSE_LINK, excuse) == [3, 4]
    assert read(Purpose.APPROVAL_LINK, approval) == [1, 2, 1, "t", 2_000_000_000]
    assert read(Purpose.LOGIN_LINK, login) == {"p": 1, "n": "nonce"}


def test_only_the_tokens_module_makes_a_serializer() -> None:
    found = subprocess.run(
        ["grep", "-rln", "--include=*.py", "Serializer(", "learningday", "activities"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert found == ["learningday/tokens.py"]
