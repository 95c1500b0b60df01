"""``python -m dsc_engine.cli``: the same as the ``dsc-engine`` command."""

import sys

from dsc_engine.cli import main

sys.exit(main())
