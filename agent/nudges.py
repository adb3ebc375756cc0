"""The owner's nudges, picked up between turns and handed to the model as a message from them."""

from __future__ import annotations

import logging

from shared.aws.errors import StoreUnavailable
from shared.steering.models import Nudge
from shared.steering.nudges import NudgeStore

log = logging.getLogger(__name__)


def owner_note(nudge: Nudge) -> str:
    """The nudge as the model reads it: marked as the task owner's own words."""
    return (f"[Message from {nudge.user_id}, the owner of this task, sent while you were working. "
            f"It comes from the person you are working for; take it into account from now on.]\n{nudge.message}")


class NudgeInbox:
    """Reads the task's undelivered nudges and marks each delivered (once) as it hands it over."""

    def __init__(self, nudges: NudgeStore, task_id: str):
        self._nudges = nudges
        self._task_id = task_id

    async def collect(self) -> list[str]:
        """The notes to add to the next model request; a read failure only delays them."""
        try:
            waiting = await self._nudges.pending(self._task_id)
        except StoreUnavailable as exc:
            log.warning("could not read nudges: %s", exc)
            return []
        notes = []
        for nudge in waiting:
            try:
                delivered = await self._nudges.deliver(nudge)
            except StoreUnavailable as exc:
                log.warning("could not mark nudge %s delivered: %s", nudge.nudge_id, exc)
                continue
            if delivered:
                notes.append(owner_note(nudge))
        return notes
