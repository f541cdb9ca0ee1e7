"""`python -m profiles …` entry point."""

import sys

from profiles.cli.main import main

sys.exit(main())
