"""``python -m swerve.local``: the same as ``python -m swerve.local.server``."""

import sys

from swerve.local.server import main

sys.exit(main())
