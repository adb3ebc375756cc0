"""Entrypoint: python -m services.hydrator"""

from services.hydrator.bootstrap import build_hydrator
from services.hydrator.handlers import HANDLERS
from services.hydrator.settings import HydratorSettings
from shared.messaging.worker import run_service

if __name__ == "__main__":
    run_service("hydrator", HydratorSettings(), build_hydrator, HANDLERS)
