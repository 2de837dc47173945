"""The tree passes ruff's format check and its lint with the rules in pyproject.toml
([tool.ruff]): pyflakes (an undefined or unused name), import order, bugbear (a loop variable a
closure keeps, a raise that hides its cause) and pyupgrade. Here rather than beside the suite so `./dev test`, which CI runs,
fails on a new finding the way it fails on a broken behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_to_fix() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_tree_is_laid_out_by_ruff_format() -> None:
    """One layout, the formatter's: a diff shows what changed, never how someone likes to wrap."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--no-cache", "--check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, "run `ruff format .`:\n" + done.stdout + done.stderr
