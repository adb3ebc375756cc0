"""Entrypoint: python -m services.reconciler"""

from services.reconciler.bootstrap import build_reconciler
from services.reconciler.handlers import HANDLERS
from services.reconciler.settings import ReconcilerSettings
from shared.messaging.worker import run_service

if __name__ == "__main__":
    run_service("reconciler", ReconcilerSettings(), build_reconciler, HANDLERS)
