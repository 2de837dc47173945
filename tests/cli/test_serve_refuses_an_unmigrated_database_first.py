"""`serve` on a database that was never migrated says only which command to run: no URL
printed before, no dev server started."""

from __future__ import annotations

from pathlib import Path

from tests.cli.operator import clean_up, dev_servers_on, printed_lines, service_env, start


def test_serve_refuses_an_unmigrated_database_before_printing_anything(tmp_path: Path) -> None:
    env = service_env(tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    temporal_port = int(env["LEARNINGDAY_TEMPORAL_DEV_PORT"])
    process = start("serve", env=env)
    try:
        stdout, stderr = process.communicate(timeout=60)
        left_behind = dev_servers_on(temporal_port)
    finally:
        clean_up(process, temporal_port)
    assert process.returncode == 1
    assert len(printed_lines(stdout, stderr)) == 1, stdout + stderr
    assert "learningday db upgrade" in stderr
    assert left_behind == []
