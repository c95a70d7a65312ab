"""``python -m chronic_na``: the same as the ``chronic-na`` command."""

import sys

from chronic_na.cli import main

sys.exit(main())
