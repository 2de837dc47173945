"""The ports a command listens on, claimed before anything else starts.

A port someone else holds must end `serve` with one line that names the port and the flag or
setting that moves it, before the dev server or the worker exist, so nothing is left to stop
(uvicorn, left to find it, logs the bind error and calls `sys.exit` inside the event loop, where
it cannot stop the workers: the command hung). The web and probe ports are bound here and the
socket is handed to uvicorn, so no other program can take the port between the check and the
server. The Temporal ports are bound by the dev server, a child process: they are only tried.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Port:
    """A port an operator can move: what listens there, and the flag and setting that move it."""

    what: str
    host: str
    port: int
    setting: str
    flag: str | None = None
    hint: str = ""

    def move(self) -> str:
        return f"{self.flag} or {self.setting}" if self.flag else self.setting


class CannotListen(RuntimeError):
    """The port cannot be ours; the message names it and how to move it."""

    def __init__(self, port: Port, reason: str) -> None:
        super().__init__(
            f"Port {port.port} on {port.host} ({port.what}) {reason}: "
            f"choose another port with {port.move()}{port.hint}."
        )
        self.port = port


class PortTaken(CannotListen):
    """Another program holds the port."""

    def __init__(self, port: Port) -> None:
        super().__init__(port, "is already in use by another program")


def listen(port: Port) -> socket.socket:
    """A listening socket on the port, for uvicorn's `serve(sockets=[...])`."""
    family = socket.AF_INET6 if ":" in port.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a restart does not wait for the previous run's TIME_WAIT connections,
    # while a socket another process listens on still refuses the bind.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((port.host, port.port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortTaken(port) from None
        raise CannotListen(port, f"cannot be listened on ({error.strerror})") from None
    sock.set_inheritable(True)
    return sock


def require_free(port: Port) -> None:
    """Fail now if the port is taken; for ports a child process will bind."""
    listen(port).close()


class ServerFailed(RuntimeError):
    """A server on one of these ports stopped on its own, after logging why."""
