"""`python -m predictions_core.cli ...`: the same as the `predictions` command."""

import sys

from predictions_core.cli.main import main

sys.exit(main())
