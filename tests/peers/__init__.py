"""Local servers that speak the real wire protocols of Slack, Google and SMTP, for tests."""
