"""The links we print and email point at the web server's host and port unless
LEARNINGDAY_PUBLIC_BASE_URL says otherwise (a proxy, https)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from learningday.cli import app
from learningday.db.models import Person

runner = CliRunner()


@pytest.fixture
def ada(session: Session) -> Person:
    person = Person(email="ada@example.com", name="Ada Lovelace", timezone="Europe/London")
    session.add(person)
    session.commit()
    return person


def test_a_sign_in_link_follows_the_web_port(ada: Person, fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.delenv("LEARNINGDAY_PUBLIC_BASE_URL", raising=False)
    fresh_settings.setenv("LEARNINGDAY_WEB_PORT", "9123")
    result = runner.invoke(app, ["auth", "link", "ada@example.com"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("http://127.0.0.1:9123/auth/link/")


def test_an_explicit_public_base_url_wins(ada: Person, fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("LEARNINGDAY_PUBLIC_BASE_URL", "https://learning.example.com")
    fresh_settings.setenv("LEARNINGDAY_WEB_PORT", "9123")
    result = runner.invoke(app, ["auth", "link", "ada@example.com"])
    assert result.stdout.startswith("https://learning.example.com/auth/link/")
