"""Sample data: the seeded generator and the small dataset bundled with the package."""

from dsc_engine.sample.bundled import BUNDLED_SIZES, bundled, write_bundled
from dsc_engine.sample.generate import DEFAULT_SEED, generate

__all__ = ["BUNDLED_SIZES", "DEFAULT_SEED", "bundled", "generate", "write_bundled"]
