"""A local Google peer: the OAuth2 token endpoint, Calendar v3 events, Gmail send and the
Admin SDK Directory API's users.list.

The real `googleapiclient` talks to it over HTTP exactly as it talks to Google: the service-account
key's `token_uri` points at `/token`, and `client_options={"api_endpoint": ...}` at the APIs. Every
request body and query string is checked against the discovery documents shipped inside
googleapiclient, so a request Google would refuse is refused here too (and logged in
`schema_errors`, which tests assert is empty). The behaviours our code depends on are modelled:
client-chosen ids (409 on reuse, even of a cancelled event), deletion that keeps a cancelled copy,
focusTime/outOfOffice only on a Workspace user's primary calendar, pagination, and injected faults
(429, 403 rateLimitExceeded, 500) for retry tests.

Use it as a context manager (`with GooglePeer() as peer:`) or through the `google_peer` fixture.
"""

from tests.peers.google.keys import service_account_info
from tests.peers.google.peer import GooglePeer, google_peer
from tests.peers.google.state import ApiError, RecordedRequest, SentMail

__all__ = ["ApiError", "GooglePeer", "RecordedRequest", "SentMail", "google_peer", "service_account_info"]
