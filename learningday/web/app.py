"""The web application: pages, sign-in, the ICS feed, the outbox, approval and excuse links,
the claim form, health and metrics, and Slack's endpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from learningday.checkins import CheckInGateway
from learningday.contracts.mail import Mailer
from learningday.settings import Settings


def create_app(settings: Settings, gateway: CheckInGateway, mailer_for: Callable[[Settings], Mailer]) -> FastAPI:
    """`mailer_for` makes the mailer that sends sign-in links from the settings in force then; the
    caller hands it in (activities/mail/factory.py's), so the web imports no activity module."""
    from learningday.web import approvals, claims, errors, excuse, headers, health, ics, outbox, pages, problems, review

    app = FastAPI(title="Learning Day", docs_url=None, redoc_url=None)
    app.state.gateway = gateway
    app.state.settings = settings
    app.state.mailer_for = mailer_for
    headers.install(app, settings)  # CSP, nosniff, no framing, referrer policy, HSTS on https
    errors.install(app)  # browsers get error pages, API clients JSON
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")  # app.css
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(ics.router)
    app.include_router(outbox.router)
    app.include_router(problems.router)  # delivery problems, for admins
    app.include_router(approvals.router)  # expense approval links
    app.include_router(review.router)  # a pending claim's approval page, from the Team page
    app.include_router(claims.router)  # the claim form
    app.include_router(excuse.router)  # flag excuse links
    if settings.slack_configured:
        from learningday.web.slack import build_slack_router

        app.include_router(build_slack_router(lambda: gateway, settings))

    return app
