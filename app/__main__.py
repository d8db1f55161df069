"""``python -m app`` runs the ``caliper`` command line."""

import sys

from app.cli import main

sys.exit(main())
