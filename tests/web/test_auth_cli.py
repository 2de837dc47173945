"""`learningday auth link EMAIL` prints a link that signs that person in, once; the demo prints one
for the program owner."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from learningday.cli import app
from learningday.demo.run import owner_sign_in
from tests.web.conftest import Org, form_token

runner = CliRunner()


def test_the_printed_link_signs_the_person_in(client: TestClient, org: Org) -> None:
    result = runner.invoke(app, ["auth", "link", "Grace@Example.com"])
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("http://127.0.0.1:8000/auth/link/")
    path = url.removeprefix("http://127.0.0.1:8000")
    page = client.get(path).text
    assert "Sign in as Grace Head" in page
    assert client.post(path, data=dict([form_token(page)])).status_code == 303
    assert "Hello, Grace" in client.get("/me").text


def test_an_unknown_email_gets_no_link(client: TestClient, org: Org) -> None:
    result = runner.invoke(app, ["auth", "link", "nobody@example.com"])
    assert result.exit_code == 1
    assert "nobody active with the email 'nobody@example.com'" in result.stderr


def test_the_demo_offers_the_program_owner_a_sign_in_link(client: TestClient, org: Org) -> None:
    line = owner_sign_in()
    path = line.split("http://127.0.0.1:8000", 1)[1]
    assert "Sign in as Ada Admin" in client.get(path).text
