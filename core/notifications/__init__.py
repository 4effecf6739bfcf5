"""Notifications: alarm events POSTed to managers' webhooks through an outbox the worker sends.
See docs/architecture.md#webhooks."""
