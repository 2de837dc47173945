"""The tree passes ruff's lint with the rules in pyproject.toml ([tool.ruff]): pyflakes (an
undefined or unused name), import order, bugbear (a loop variable a closure keeps, a raise that
hides its cause) and pyupgrade. Here rather than beside the suite so `./dev test`, which CI runs,
fails on a new finding the way it fails on a broken behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_to_fix() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
