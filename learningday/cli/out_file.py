"""Files a command writes for `--out`.

A folder that does not exist is refused in one line naming it, before any work is done, as
`sort -o` and `gcc -o` do (tools that create folders, like curl, do so only when asked with
`--create-dirs`: a typo in a path should not leave a new folder tree behind).
"""

from __future__ import annotations

from pathlib import Path

from learningday.cli.errors import OperatorError


def check_out(path: Path) -> None:
    """Refuse, before any work, a path that cannot be a new or existing file."""
    folder = path.parent
    if not folder.is_dir():
        raise OperatorError(f"--out {path}: the folder {folder} does not exist; create it first or choose another path")
    if path.is_dir():
        raise OperatorError(f"--out {path}: is a folder; give a file name, e.g. {path / 'export.csv'}")


def write_out(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OperatorError(f"--out {path}: cannot write: {error.strerror}") from None
