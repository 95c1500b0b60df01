"""Make the conformance-case runner (``spec_runner.py``) importable by the per-operation runners."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
