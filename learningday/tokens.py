"""Every token we issue, signed and read in one place.

A token is a JSON payload signed with the settings' secret key (itsdangerous, HMAC-SHA1 over a
key derived from the secret and the purpose's salt) and stamped with the time it was made. Each
kind of token is a `Purpose` with a salt of its own — a token made for one purpose is invalid for
every other — and a maximum age, checked on every read. Signing does not hide the payload: put
nothing in one that its holder may not read.

    token = sign(Purpose.CHECKIN_LINK, [person_id, "2026-12-03"])
    person_id, date = read(Purpose.CHECKIN_LINK, token)     # or TokenRefused: expired / invalid

The purposes and their lifetimes (the salts are those the tokens had before this module, so
links already sent in the same format keep working):

| purpose | payload | lifetime | why that long |
| --- | --- | --- | --- |
| LOGIN_LINK | person id, nonce | `login_link_max_age_minutes` (30 min) | emailed; single use |
| SESSION | person id, session version | `session_max_age_hours` (12 h) | the cookie's life |
| FORM | digest of the browser's form cookie, digest of the page's scope | 24 h | a form left open overnight still posts |
| OIDC_FLOW | state, nonce, PKCE verifier, next | 10 min | a round trip to the provider |
| CHECKIN_LINK | person id, date | 14 days | made when the day is set up (at most a week ahead), used on the day and its grace |
| CLAIM_FORM_LINK | person id | 7 days | it accepts uploads: ask for a new one (CLI, Slack) |
| FEED_LINK | person id | 365 days | a calendar subscription; the Me page shows a fresh one |
| EXCUSE_LINK | flag id, manager id | 30 days | a flag email is acted on within weeks |
| APPROVAL_LINK | claim, approver, level, token id, expiry | 400 days, and the expiry inside it | the claim's own deadline |

Rotating the secret key invalidates every token at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from learningday.settings import Settings, get_settings


@enum.unique  # two purposes may never share a salt: a token for one would be valid for both
class Purpose(enum.Enum):
    """What a token is for. The value is its salt."""

    LOGIN_LINK = "learningday.login"
    SESSION = "learningday.session"
    FORM = "learningday.csrf"
    OIDC_FLOW = "learningday.oidc"
    CHECKIN_LINK = "learningday.checkin"
    CLAIM_FORM_LINK = "learningday.claim-form"
    FEED_LINK = "learningday.ics"
    EXCUSE_LINK = "learningday.excuse"
    APPROVAL_LINK = "learningday.claim-approval"

    @property
    def salt(self) -> str:
        return self.value

    def max_age(self, settings: Settings | None = None) -> dt.timedelta:
        """How long a token of this purpose is accepted after it was made."""
        return _MAX_AGE[self](settings or get_settings())


_MAX_AGE: dict[Purpose, Callable[[Settings], dt.timedelta]] = {
    Purpose.LOGIN_LINK: lambda s: dt.timedelta(minutes=s.login_link_max_age_minutes),
    Purpose.SESSION: lambda s: dt.timedelta(hours=s.session_max_age_hours),
    Purpose.FORM: lambda s: dt.timedelta(hours=24),
    Purpose.OIDC_FLOW: lambda s: dt.timedelta(minutes=10),
    Purpose.CHECKIN_LINK: lambda s: dt.timedelta(days=14),
    Purpose.CLAIM_FORM_LINK: lambda s: dt.timedelta(days=7),
    Purpose.FEED_LINK: lambda s: dt.timedelta(days=365),
    Purpose.EXCUSE_LINK: lambda s: dt.timedelta(days=30),
    # A hard cap whatever the payload says; the link's own expiry (the claim's deadline) is in it.
    Purpose.APPROVAL_LINK: lambda s: dt.timedelta(days=400),
}


class TokenRefused(BadSignature):
    """A token that is not accepted: `expired` (validly signed, too old) or `invalid` (forged,
    tampered with, truncated, or made for another purpose). A `BadSignature`, as itsdangerous's
    own refusals are, so code written against itsdangerous still catches it."""

    def __init__(self, purpose: Purpose, expired: bool) -> None:
        self.purpose = purpose
        self.expired = expired
        super().__init__(f"{purpose.name} token {'expired' if expired else 'invalid'}")

    @property
    def invalid(self) -> bool:
        return not self.expired


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=purpose.salt)


def sign(purpose: Purpose, payload: Any) -> str:
    """A URL-safe token carrying `payload` (anything JSON can hold) for `purpose`."""
    return str(_serializer(purpose).dumps(payload))


def read(purpose: Purpose, token: str, max_age: int | None = None) -> Any:
    """The payload of a token made for `purpose` within its maximum age (or within `max_age`
    seconds, when that is shorter); TokenRefused otherwise."""
    longest = int(purpose.max_age().total_seconds())
    max_age = longest if max_age is None else min(max_age, longest)
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenRefused(purpose, expired=True) from None
    except (BadData, UnicodeError, ValueError, TypeError):
        raise TokenRefused(purpose, expired=False) from None


class Signer:
    """One purpose's `sign` and `read` as itsdangerous-style `dumps` and `loads`."""

    def __init__(self, purpose: Purpose) -> None:
        self.purpose = purpose

    def dumps(self, payload: Any) -> str:
        return sign(self.purpose, payload)

    def loads(self, token: str, max_age: int | None = None) -> Any:
        return read(self.purpose, token, max_age=max_age)


def keyed_digest(context: str, value: str) -> str:
    """An HMAC-SHA256 of `value` under the secret key, for storing or comparing something without
    keeping it (a sign-in address, a form cookie): the same value gives the same digest, and
    nobody without the key can test a guess against it."""
    secret = get_settings().secret_key.get_secret_value().encode()
    key = hashlib.sha256(f"learningday.digest.{context}".encode() + secret).digest()
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
