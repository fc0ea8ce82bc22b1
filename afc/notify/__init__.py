"""Event delivery: `afc notify` sends the outbox to webhooks and ntfy topics (docs/notify.md)."""
