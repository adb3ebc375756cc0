"""Scheduled tasks: a template and a cron or rate expression; one task per due time."""
