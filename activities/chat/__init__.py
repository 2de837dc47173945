"""Chat: Slack DMs, modals and channel posts, or the local web page when Slack is not set up."""
