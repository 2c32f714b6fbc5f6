"""``python -m pixirt.cli``."""

import sys

from pixirt.cli._main import main

sys.exit(main())
