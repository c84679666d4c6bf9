"""Command-line entry point: ``python bot.py --help``."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
