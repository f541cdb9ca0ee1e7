"""`python -m profiles …` entry point."""

import sys

from profiles.cli import main

sys.exit(main())
