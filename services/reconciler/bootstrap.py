"""The reconciler's composition root."""

from __future__ import annotations

import os

from services.reconciler.handlers import Reconciler
from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.schedules import ScheduleRunner
from services.reconciler.settings import ReconcilerSettings
from shared.aws.clients import AwsClients
from shared.compute.factory import build_compute
from shared.evals.driver import EvalDriver
from shared.evals.store import DynamoEvalStore
from shared.events.bus import EventBridgePublisher
from shared.observability.metrics import EmfMetrics
from shared.pull_outcomes.store import DynamoPullOutcomeStore
from shared.repos.store import DynamoRepoStore
from shared.schedules.store import DynamoScheduleStore
from shared.steering.approvals import DynamoApprovalStore
from shared.steering.transactions import SteeringTables
from shared.tasks.dynamo_store import DynamoTaskStore


async def build_reconciler(settings: ReconcilerSettings, clients: AwsClients) -> Reconciler:
    ddb = await clients.client("dynamodb")
    store = DynamoTaskStore(ddb, settings.names)
    metrics = EmfMetrics("reconciler")
    bus = EventBridgePublisher(await clients.client("events"), settings.names.event_bus)
    repairs = StuckTaskRepairs(store, await build_compute(settings, clients, dict(os.environ)), bus, metrics, settings,
                               approvals=DynamoApprovalStore(SteeringTables(ddb, settings.names)))
    schedules = ScheduleRunner(DynamoScheduleStore(ddb, settings.names.schedules_table), store,
                               DynamoRepoStore(ddb, settings.names.repos_table), bus,
                               DynamoPullOutcomeStore(ddb, settings.names.pull_outcomes_table))
    evals = EvalDriver(DynamoEvalStore(ddb, settings.names.evals_table, settings.names.eval_items_table), store, bus,
                       max_running=settings.eval_max_running)
    return Reconciler(store, metrics, settings, repairs, schedules, evals)
