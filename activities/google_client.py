"""Google API collections built once per process, with each call's requests sent over its own HTTP.

Building a client (`googleapiclient.discovery.build`) parses the bundled discovery document
(200 KB for Calendar) and generates every method with its docstring: about 6 ms of CPU. The
adapters used to build one per call, because httplib2 is not thread-safe and each call acts
as another person; in the fan-out benchmark that was a tenth of the worker's CPU. Making a
request from a built collection only reads it, and `HttpRequest.http` decides which
connection (and whose credentials) sends it, so the collection is shared and the HTTP is not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httplib2
from googleapiclient.discovery import build


class SharedCollection:
    """One API collection, e.g. Calendar's `events` or Gmail's `users.messages`, for every thread.

    `collection` is the path of resource names from the service down to it.
    """

    def __init__(self, api: str, version: str, collection: tuple[str, ...], api_endpoint: str | None) -> None:
        self._api, self._version, self._collection = api, version, collection
        self._api_endpoint = api_endpoint
        self._built: Any = None
        self._lock = threading.Lock()

    def over(self, http: Any) -> _RequestsOver:
        """The collection's methods, each returning a request that `http` will send."""
        return _RequestsOver(self._resource(), http)

    def _resource(self) -> Any:
        with self._lock:
            if self._built is None:
                resource = build(
                    self._api,
                    self._version,
                    # Never used to send: every request gets the caller's own http.
                    http=httplib2.Http(),
                    static_discovery=True,
                    cache_discovery=False,
                    client_options={"api_endpoint": self._api_endpoint} if self._api_endpoint else None,
                )
                for name in self._collection:
                    resource = getattr(resource, name)()
                self._built = resource
            return self._built


class _RequestsOver:
    def __init__(self, resource: Any, http: Any) -> None:
        self._resource, self._http = resource, http

    def __getattr__(self, method: str) -> Callable[..., Any]:
        make = getattr(self._resource, method)

        def request(*args: Any, **kwargs: Any) -> Any:
            made = make(*args, **kwargs)
            if made is not None:  # `list_next` answers None after the last page
                made.http = self._http
            return made

        return request
