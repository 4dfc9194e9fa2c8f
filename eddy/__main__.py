"""`python -m eddy` runs the eddy command."""

import sys

from eddy.cli import main

sys.exit(main())
