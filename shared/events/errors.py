"""Errors of event publishing and parsing."""


class EventError(Exception):
    """Base of event errors."""


class PublishFailed(EventError):
    """EventBridge refused an entry."""


class UnknownEvent(EventError):
    """A message whose source and detail-type no consumer here understands."""


class MalformedEvent(EventError):
    """A message that is not a valid event envelope or detail."""
