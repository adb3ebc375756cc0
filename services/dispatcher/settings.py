"""Dispatcher settings."""

from shared.compute.settings import ComputeSettings
from shared.settings import WorkerSettings


class DispatcherSettings(WorkerSettings, ComputeSettings):
    pass
