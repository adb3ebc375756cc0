"""Entrypoint: python -m services.finalizer"""

from services.finalizer.bootstrap import build_finalizer
from services.finalizer.handlers import HANDLERS
from services.finalizer.settings import FinalizerSettings
from shared.messaging.worker import run_service

if __name__ == "__main__":
    run_service("finalizer", FinalizerSettings(), build_finalizer, HANDLERS)
