"""The `learningday` command: one Typer app, one sub-app per concern."""

from __future__ import annotations

import typer

from learningday.cli import audit, auth, claims, day, db, org, policy, run
from learningday.cli.errors import OneLineErrors

app = typer.Typer(cls=OneLineErrors, no_args_is_help=True, help="Run your company's weekly Learning Day.")
app.add_typer(db.app, name="db")
app.add_typer(org.app, name="org")
app.add_typer(policy.app, name="policy")
app.add_typer(day.app, name="day")
app.add_typer(claims.app, name="claims")
app.add_typer(auth.app, name="auth")
app.add_typer(audit.app, name="audit")
app.command("serve")(run.serve_command)
app.command("worker")(run.worker_command)
app.command("web")(run.web_command)


@app.command()
def demo(
    time_scale: float = typer.Option(720.0, min=1.0, help="720 plays a 12-hour day in a minute."),
    host: str | None = run.HOST,
    port: int | None = run.PORT,
    temporal_port: int | None = run.TEMPORAL_PORT,
    temporal_ui_port: int | None = run.TEMPORAL_UI_PORT,
) -> None:
    """Load a demo organisation and run one compressed Learning Day on the embedded default."""
    from learningday.demo.run import run_demo

    run_demo(run.settings_with(host, port, temporal_port, temporal_ui_port), time_scale)


def main() -> None:
    """The console script. A process that opened a Temporal client ends without interpreter
    teardown once its work is done: the SDK's Rust threads can otherwise abort CPython's
    finalisation ("PyGILState_Release ... finalizing", temporalio/sdk-python#300)."""
    import os
    import sys

    from learningday.temporal.client import connected_in_this_process

    code: int = 0
    try:
        app()
    except SystemExit as exit_:
        if not connected_in_this_process():
            raise
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    if connected_in_this_process():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
