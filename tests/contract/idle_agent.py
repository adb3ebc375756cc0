"""A stand-in agent for compute contract tests: does nothing until it is told to stop."""

import signal
import sys
import time


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
