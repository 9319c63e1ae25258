"""`python -m matcher.offline.synthetic ...`: see `matcher.offline.synthetic.cli.main`."""

import sys

from matcher.offline.synthetic.cli import main

if __name__ == "__main__":
    sys.exit(main())
