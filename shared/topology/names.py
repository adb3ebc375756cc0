"""Deterministic resource names for one stack, shared by every environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceNames:
    """Names of a stack's resources, derived from its name alone."""

    stack: str

    def _n(self, suffix: str) -> str:
        return f"{self.stack}-{suffix}"

    @property
    def tasks_table(self) -> str:
        return self._n("tasks")

    @property
    def task_events_table(self) -> str:
        return self._n("task-events")

    @property
    def user_concurrency_table(self) -> str:
        return self._n("user-concurrency")

    @property
    def repos_table(self) -> str:
        return self._n("repos")

    @property
    def webhooks_table(self) -> str:
        return self._n("webhooks")

    @property
    def memory_table(self) -> str:
        return self._n("memory")

    @property
    def pulls_table(self) -> str:
        return self._n("pulls")

    @property
    def pull_outcomes_table(self) -> str:
        """Who opened each bgagent pull request."""
        return self._n("pull-outcomes")

    @property
    def idempotency_table(self) -> str:
        return self._n("idempotency")

    @property
    def schedules_table(self) -> str:
        return self._n("schedules")

    @property
    def evals_table(self) -> str:
        return self._n("evals")

    @property
    def eval_items_table(self) -> str:
        """Each evaluation run's cases and counted attempts."""
        return self._n("eval-items")

    @property
    def model_endpoints_table(self) -> str:
        return self._n("model-endpoints")

    @property
    def nudges_table(self) -> str:
        return self._n("nudges")

    @property
    def approvals_table(self) -> str:
        return self._n("approvals")

    @property
    def event_bus(self) -> str:
        return self._n("bus")

    @property
    def artifacts_bucket(self) -> str:
        return self._n("artifacts")

    @property
    def agent_task_family(self) -> str:
        """The ECS task definition family of agent sessions."""
        return self._n("agent")

    @property
    def sessions_table(self) -> str:
        """Warm capacity: which agent task claimed which coding task."""
        return self._n("sessions")

    @property
    def sessions_queue(self) -> str:
        """Warm capacity: the FIFO queue of sessions waiting for an idle agent."""
        return self._n("sessions.fifo")

    @property
    def sessions_dlq(self) -> str:
        return self._n("sessions-dlq.fifo")

    @property
    def warm_agents_service(self) -> str:
        """Warm capacity: the ECS service of idle agent tasks."""
        return self._n("agents")

    def queue(self, service: str) -> str:
        """The queue a consuming service reads."""
        return self._n(f"{service}-queue")

    def dlq(self, service: str) -> str:
        """The dead-letter queue behind a service's queue."""
        return self._n(f"{service}-dlq")
