"""Rendering and delivery of alerts to operations: Slack, email, console."""
