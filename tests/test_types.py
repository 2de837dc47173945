"""The tree passes mypy with the settings in pyproject.toml ([tool.mypy]): strict on policies/,
workflows/, activities/ and learningday/. Here beside tests/test_lint.py so `./dev test`, which CI
runs, fails on a new type error the way it fails on a broken behaviour: a payload field read as
`str` that may be None, an activity result returned as Any, an ignore nobody needs any more."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_type_errors() -> None:
    # The cache is the checkout's own (mypy writes a .gitignore into it): a warm run is much faster.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
