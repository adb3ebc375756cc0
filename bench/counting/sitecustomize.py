"""On PYTHONPATH, loaded by every Python process of a benchmarked stack: its AWS calls are counted."""

from bench.call_counter import install

install()
