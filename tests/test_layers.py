"""The code keeps the layers and boundaries declared in pyproject.toml ([tool.importlinter]):
entry points over the web over Temporal over workflows over activities over the shell's shared
parts over learningday.contracts over policies; the web imports no activity module; contracts and
policies import no I/O library. Here rather than beside the suite so `./dev test`, which CI runs,
fails on an import that crosses a layer the way it fails on a broken behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_keeps_to_the_layers() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
