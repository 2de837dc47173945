"""`learningday demo` run as a newcomer runs it: the installed command in its own process group,
on free ports and a scratch data directory, its printed story read line by line as it comes.

The demo says where it is in its story (`Now live: …`, `The demo day is over: …`): tests wait on
those lines, never on a fixed delay.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from learningday.demo.run import DEMO_ORG
from tests.cli.operator import LEARNINGDAY, clean_up, service_env, start

OWNER_LINK = re.compile(r"Sign in as the program owner .*?: (http://\S+)")
LIVE = re.compile(r"Now live: \d+ Learning Days for (\w+ \d+ \w+ \d{4})")
OVER = "The demo day is over:"
STOPPED = "The demo stopped playing:"  # on stderr, when the story fails


class DemoProcess:
    """A running demo: its printed lines so far, its web address, and sign-in links (minted with
    `learningday auth link` before it starts) for the people `sign_in` names."""

    def __init__(self, data_dir: Path, time_scale: float, sign_in: tuple[str, ...] = ()) -> None:
        self.env = service_env(data_dir, secret_key="demo-in-a-browser")
        # The demo makes its own database in its data directory, as `./dev demo` does; a test
        # session's database or policy must not leak into it.
        for name in ("LEARNINGDAY_DATABASE_URL", "LEARNINGDAY_POLICY_FILE", "LEARNINGDAY_TEMPORAL_ADDRESS"):
            self.env.pop(name, None)
        port, temporal, ui = (
            self.env[f"LEARNINGDAY_{n}"] for n in ("WEB_PORT", "TEMPORAL_DEV_PORT", "TEMPORAL_DEV_UI_PORT")
        )
        self.base = f"http://127.0.0.1:{port}"
        self.temporal_port = int(temporal)
        # The demo's people, imported as an operator would before the demo (which imports the
        # same file again, changing nothing), so sign-in links are minted before it starts and
        # the test's own processes do not compete with its first, compressed, history day.
        self._cli("db", "upgrade")
        self._cli("org", "import", str(DEMO_ORG))
        self.links = {email: self._cli("auth", "link", email) for email in sign_in}
        self.started = time.monotonic()
        self.process = start(
            "demo",
            "--time-scale",
            str(time_scale),
            "--port",
            port,
            "--temporal-port",
            temporal,
            "--temporal-ui-port",
            ui,
            env=self.env,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.errors), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._changed:
                into.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first printed line matching `pattern`, waiting up to `timeout` s for it; fails at
        once, with what was printed, if the demo exits or says its story stopped first."""
        regex = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((m for m in map(regex.search, self.lines) if m), None)
                if found is not None:
                    return found
                stopped = any(line.startswith(STOPPED) for line in self.errors)
                if stopped or self.process.poll() is not None or time.monotonic() > deadline:
                    why = (
                        "stopped playing"
                        if stopped
                        else f"exited with {self.process.returncode}"
                        if self.process.poll() is not None
                        else f"not within {timeout} s"
                    )
                    raise AssertionError(
                        f"demo {why} before printing {regex.pattern!r}:\n" + "\n".join(self.lines + self.errors)
                    )
                self._changed.wait(0.5)

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def _cli(self, *args: str) -> str:
        done = subprocess.run([LEARNINGDAY, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"learningday {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def stop(self) -> None:
        """Ctrl-C, as a person ends the demo; whatever is left is killed."""
        try:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGINT)
                self.process.wait(timeout=60)
        finally:
            clean_up(self.process, self.temporal_port)
            for reader in self._readers:
                reader.join(5)
