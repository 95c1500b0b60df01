"""How the command line reads its arguments, as a person writes them: options anywhere, ``-``
for standard input, no option taken and then ignored."""

from __future__ import annotations

import io
import json

import pytest

from dsc_engine.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", [
    ("query", "audit", "--page-size", "2", 'UserName = "admin"'),
    ("query", "audit", "--format", "json", "--page-size", "2", "--", 'UserName = "admin"'),
    ("export", "audit", "--page", "1", "--page-size", "2", 'UserName = "admin"'),
])
def test_the_filter_may_come_after_the_options(argv: tuple[str, ...]) -> None:
    before = (*argv[:2], 'UserName = "admin"', *(a for a in argv[2:-1] if a != "--"))
    code, out, err = run(*argv)
    assert (code, err) == (0, "")
    assert out == run(*before)[1] and "admin" in out
