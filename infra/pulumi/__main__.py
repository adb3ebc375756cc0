"""Pulumi entrypoint: read the stack config, build the platform, export its outputs."""

import sys
from pathlib import Path

import pulumi

# The program imports the platform's own topology and models (shared/) from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bgagent_infra.config import load_config  # noqa: E402
from bgagent_infra.program import deploy  # noqa: E402

for output_name, value in deploy(load_config()).items():
    pulumi.export(output_name, value)
