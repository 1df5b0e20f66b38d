"""``python -m bench_runner``: the command-line interface."""

import sys

from .cli import main

sys.exit(main())
