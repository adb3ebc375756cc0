"""Finalizer settings."""

from shared.settings import GitHubSettings, WorkerSettings


class FinalizerSettings(WorkerSettings, GitHubSettings):
    pass
