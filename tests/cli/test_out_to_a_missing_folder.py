"""`--out` into a folder that does not exist is one line naming the path, like `gcc -o` or
`sort -o`, not a FileNotFoundError traceback."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from learningday.cli import app

runner = CliRunner()


def test_out_to_a_missing_folder_names_the_path(tmp_path: Path, engine: Engine) -> None:
    out = tmp_path / "reports" / "2026.csv"
    result = runner.invoke(app, ["claims", "export", "--year", "2026", "--out", str(out)])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(out.parent) in lines[0] and "does not exist" in lines[0]
