"""The Slack surface: the Bolt app, its HTTP server, the listeners and every Slack-facing string."""
