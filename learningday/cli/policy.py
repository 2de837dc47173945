"""`learningday policy …`: check, show and start the program's policy file.

`check` prints compiler-style `FILE:LINE: field: message` lines (editors jump to them) and
exits 1, so CI can gate a policy change; `show` prints what is actually in force with every
default filled in; `init` writes the commented default file to edit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources
from pathlib import Path

import tomlkit
import typer

from learningday.settings import get_settings
from policies.loader import PolicyFileError, load_policy
from policies.policy import Policy

app = typer.Typer(no_args_is_help=True, help="The program's policy file.")


def default_policy_text() -> str:
    """The commented default policy file shipped in the `policies` package."""
    return resources.files("policies").joinpath("default.toml").read_text(encoding="utf-8")


@app.command()
def check(file: Path = typer.Argument(..., help="A .toml, .yaml or .yml policy file.")) -> None:
    """Validate FILE; print each problem as FILE:LINE: field: message (exit 1), or OK."""
    policy = _load_or_exit(file)
    typer.echo(f"OK: {file} ({summary(policy)})")


@app.command()
def show(
    file: Path | None = typer.Argument(
        None, help="Policy file; default: LEARNINGDAY_POLICY_FILE, else the built-in defaults."
    ),
) -> None:
    """Print the effective policy as TOML, every default filled in."""
    source = file or get_settings().policy_file
    policy = _load_or_exit(source) if source else Policy()
    typer.echo(f"# Effective Learning Day policy from {source or 'the built-in defaults'}.")
    typer.echo(policy_as_toml(policy), nl=False)


@app.command()
def init(
    path: Path = typer.Argument(Path("policy.toml"), help="Where to write the default policy."),
) -> None:
    """Write the commented default policy to PATH (never overwrites an existing file)."""
    if path.suffix.lower() != ".toml":
        typer.echo(f"{path}: the default policy is TOML; give a path ending in .toml", err=True)
        raise typer.Exit(1)
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(default_policy_text())
    except FileExistsError:
        typer.echo(f"{path}: already exists; not overwriting it (remove it or name another path)", err=True)
        raise typer.Exit(1) from None
    except OSError as error:
        typer.echo(f"{path}: cannot write: {error.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Wrote {path}. Edit it, check it with `learningday policy check {path}`, and set")
    typer.echo(f"LEARNINGDAY_POLICY_FILE={path} for the service to use it.")


def summary(policy: Policy) -> str:
    """One line an admin can eyeball: the day, the check-in windows, holidays and money."""
    c, r, h = policy.checkins, policy.reimbursement, policy.holidays
    region = "none" if h.country is None else "-".join(filter(None, [h.country, h.subdivision]))
    if h.extra_dates:
        region += f" + {len(h.extra_dates)} company day(s)"
    return (
        f"learning day: {policy.program.learning_weekday}, "
        f"plan {c.plan_prompt:%H:%M}–{c.plan_deadline:%H:%M}, "
        f"summary {c.summary_prompt:%H:%M}–{c.summary_deadline:%H:%M}, "
        f"holidays: {region}, "
        f"budget {r.annual_budget} {r.currency}/year, second approval above {r.second_approval_above}"
    )


def policy_as_toml(policy: Policy) -> str:
    """The policy as a TOML document that loads back to an equal `Policy`."""
    data = policy.model_dump()
    for category in data["reimbursement"]["categories"].values():
        if category.get("label") is None:
            del category["label"]  # left out means "the key as words"; an empty label is refused
    return tomlkit.dumps({key: _plain(item) for key, item in data.items()})


def _plain(value: object) -> object:
    """Model values as TOML can hold them: "HH:MM" times, exact amounts, "" for None."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second or value.microsecond else "%H:%M")
    if isinstance(value, Decimal):
        # TOML has no decimal type: whole amounts as integers, others as exact strings.
        return int(value) if value == value.to_integral_value() else str(value)
    if value is None:
        return ""
    return value


def _load_or_exit(file: Path) -> Policy:
    try:
        return load_policy(file)
    except PolicyFileError as failure:
        for error in failure.errors:
            typer.echo(str(error), err=True)
        count = len(failure.errors)
        typer.echo(f"{file}: {count} problem{'s' if count != 1 else ''}", err=True)
        raise typer.Exit(1) from None
