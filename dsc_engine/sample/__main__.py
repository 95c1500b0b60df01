"""``python3 -m dsc_engine.sample``: regenerate the bundled sample files."""

from dsc_engine.sample.bundled import write_bundled

write_bundled()
