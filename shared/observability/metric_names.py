"""Names of bgagent's CloudWatch metrics: the services emit them, the Pulumi dashboard and alarms read them."""

from __future__ import annotations

NAMESPACE = "bgagent"
SERVICE_DIMENSION = "Service"  # every metric carries it: the emitting service (gateway, hydrator, …, agent)

# Tasks reaching a terminal state (Count).
TASKS_COMPLETED = "TasksCompleted"
TASKS_FAILED = "TasksFailed"
TASKS_CANCELLED = "TasksCancelled"
TASKS_TIMED_OUT = "TasksTimedOut"

# Stage latencies (Milliseconds).
SUBMIT_TO_RUNNING_MS = "SubmitToRunningMs"
RUNNING_TO_TERMINAL_MS = "RunningToTerminalMs"
QUEUE_WAIT_MS = "QueueWaitMs"  # time an event waited in a service's queue before its handler ran

# Reconciler repairs (Count).
DRIFT_CORRECTIONS = "DriftCorrections"
STUCK_TASKS_REPAIRED = "StuckTasksRepaired"

# Agent spend, one data point per finished task.
AGENT_COST_USD = "AgentCostUsd"  # None unit: dollars
AGENT_INPUT_TOKENS = "AgentInputTokens"
AGENT_OUTPUT_TOKENS = "AgentOutputTokens"

# A handler raised: the message is retried or dead-lettered, the request answered 500 (Count).
HANDLER_ERRORS = "HandlerErrors"

TERMINAL_TASK_METRICS = (TASKS_COMPLETED, TASKS_FAILED, TASKS_CANCELLED, TASKS_TIMED_OUT)
STAGE_LATENCY_METRICS = (SUBMIT_TO_RUNNING_MS, RUNNING_TO_TERMINAL_MS, QUEUE_WAIT_MS)
AGENT_SPEND_METRICS = (AGENT_COST_USD, AGENT_INPUT_TOKENS, AGENT_OUTPUT_TOKENS)

ALL_METRICS = frozenset({
    *TERMINAL_TASK_METRICS, *STAGE_LATENCY_METRICS, *AGENT_SPEND_METRICS,
    DRIFT_CORRECTIONS, STUCK_TASKS_REPAIRED, HANDLER_ERRORS,
})
