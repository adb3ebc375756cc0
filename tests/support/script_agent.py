"""A stand-in agent with no main(): it runs only as `python -m`, so no warm worker can host it."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    Path(os.environ["PROBE_DIR"], f"{sys.argv[-1]}.ran").write_text("started cold")
