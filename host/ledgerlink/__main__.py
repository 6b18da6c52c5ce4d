"""``python -m ledgerlink``: the same as the ``ledgerlink`` command."""
import sys

from ledgerlink.cli import main

sys.exit(main())
