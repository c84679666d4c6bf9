"""Command-line entry point: ``python bot.py --help``."""

import logging
import sys

from bot.cli import main

if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    sys.exit(main())
