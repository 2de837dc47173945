"""The web: pages, sign-in, signed-link pages, the ICS feed, Slack's endpoints (see app.py)."""
