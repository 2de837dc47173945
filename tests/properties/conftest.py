"""Property-based tests: how many inputs each one tried is printed at the end of the run (the
README's Guarantees section quotes these figures)."""

from __future__ import annotations

from collections import Counter

import pytest

TRIED: Counter[str] = Counter()


def tried(name: str) -> None:
    TRIED[name] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TRIED:
        terminalreporter.write_sep("-", f"property inputs tried: {sum(TRIED.values())}")
        for name, count in sorted(TRIED.items()):
            terminalreporter.write_line(f"  {name}: {count}")
