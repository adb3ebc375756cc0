"""How a handler tells the consumer loop what to do with a message."""


class RetryLater(Exception):
    """A transient failure: leave the message on the queue and try again after `delay` seconds."""

    def __init__(self, message: str, delay: int | None = None):
        super().__init__(message)
        self.delay = delay


class PoisonMessage(Exception):
    """A message no retry can fix: send it to the dead-letter queue now."""
