"""Running the command line in-process, as the CLI tests do."""

from __future__ import annotations

import io

from dsc_engine.cli import main
from dsc_engine.cli.commands import SAMPLE_NOTE


def run(*argv: str) -> tuple[int, str, str]:
    """``dsc-engine ARGV``: its exit status, stdout and stderr. The note a command without
    ``--data`` writes first on stderr (it answers from the bundled sample) is left out, so that a
    test of the sample's answers sees only what else was said; ``run_with_note`` keeps it."""
    code, out, err = run_with_note(*argv)
    return code, out, err.removeprefix(SAMPLE_NOTE)


def run_with_note(*argv: str) -> tuple[int, str, str]:
    """``dsc-engine ARGV`` as :func:`run`, stderr whole."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()
