"""`python -m preceptor.bench`: see the package docstring."""

import sys

from .run import main

try:
    sys.exit(main())
except KeyboardInterrupt:  # the clean-up has run by the time this is raised here
    print("\nInterrupted: gunicorn stopped and the scratch database removed.", file=sys.stderr)
    sys.exit(130)
