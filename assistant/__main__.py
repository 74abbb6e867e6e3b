"""``python -m assistant``: the same command line as ``assistant``."""

from assistant.cli.main import run

run()
