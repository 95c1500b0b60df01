"""docs/server.md: its testing examples run as written, and its error table covers every code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from inpytest import run_pytest

import dsc_engine.server as server_package

from dsc_engine.server import errors as server_errors
from dsc_engine.api.catalogue import CATALOGUE
from dsc_engine.server.head import HTTP_LAYER_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def _testing_examples() -> list[str]:
    section = DOC.read_text(encoding="utf-8").split("## Testing your SDK code", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


@pytest.mark.slow
def test_docs_testing_examples_run_as_written(tmp_path: Path) -> None:
    """Each example of the testing section is a whole test module; together they pass."""
    examples = _testing_examples()
    assert len(examples) == 4  # the mock, the local server, the dsc_records/config overrides, hypothesis
    tests = sum(len(re.findall(r"^def test_", example, re.MULTILINE)) for example in examples)
    modules = {f"test_example_{index}.py": example for index, example in enumerate(examples)}
    assert f"{tests} passed" in run_pytest(tmp_path, modules)


def _documented_codes(text: str) -> dict[str, int]:
    """``code -> HTTP status`` from the rows of docs/server.md's error table."""
    rows = re.findall(r"^\| `([\w.]+)` \| (\d{3}) \|", text, re.MULTILINE)
    return {code: int(status) for code, status in rows}


def _docstring_codes(text: str) -> dict[str, int]:
    """``code -> HTTP status`` from the table in server/errors.py's docstring."""
    return {code: int(status) for code, status in re.findall(r"^([A-Z][\w.]+) +(\d{3}) ", text, re.MULTILINE)}


def _rejection_codes() -> set[str]:
    """Every code the server package raises as ``RequestRejected("<code>", ...)``."""
    codes = set()
    for path in (Path(server_package.__file__).parent).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "RequestRejected"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes


def test_every_code_the_server_answers_is_documented_with_its_status() -> None:
    codes = _rejection_codes() | set(HTTP_LAYER_CODES.values()) | {"InternalError", "InvalidApi.NotFound"}
    assert codes <= set(CATALOGUE), "a code the server answers is missing from api/catalogue.py"
    emitted = {code: CATALOGUE[code].status for code in codes}
    documented = _documented_codes(DOC.read_text(encoding="utf-8"))
    assert {c: documented.get(c) for c in emitted} == emitted
    assert {c: _docstring_codes(server_errors.__doc__ or "").get(c) for c in emitted} == emitted
