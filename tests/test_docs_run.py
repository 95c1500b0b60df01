"""Every example in README.md and docs/*.md runs, as a reader would run it (docs/cli.md, "Examples
in the docs").

Each document's fenced blocks run in order in a fresh folder of their own, so that a block may
use files an earlier block of the same document made: ``sh``, ``bash`` and ``console`` blocks in
bash with ``set -e`` (of a ``console`` block, only the ``$`` lines), with the package's
``dsc-engine`` first on PATH and ``python3`` being this interpreter; ``python`` blocks with this
interpreter, under pytest when they define ``test_`` functions. A block preceded by
``<!-- not run: why -->`` is skipped (a server that runs until stopped, an install, a benchmark
of minutes); blocks in any other language (``text``, ``toml``) are never run. Every fence must
name its language, so that nothing is left out by accident.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import Phase, settings

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = frozenset({"sh", "bash", "console"})
RUN = SHELLS | {"python"}
NOT_RUN = re.compile(r"<!--\s*not run\b")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
#: Seconds one block may take (the whole suite of them takes well under a minute).
BLOCK_TIMEOUT = 120


@attrs.frozen
class Block:
    document: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    marked_not_run: bool

    @property
    def runs(self) -> bool:
        return self.lang in RUN and not self.marked_not_run

    def __str__(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line} ({self.lang})"


def blocks(document: Path) -> Iterator[Block]:
    """The fenced blocks of a document, in order."""
    lines = document.read_text(encoding="utf-8").splitlines()
    index = 0
    previous = ""  # the last non-blank line before the current one
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            if lines[index].strip():
                previous = lines[index]
            index += 1
            continue
        indent, start = len(match["indent"]), index
        body = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][indent:])
            index += 1
        yield Block(document, start + 1, match["lang"], "\n".join(body) + "\n", bool(NOT_RUN.search(previous)))
        previous = ""
        index += 1


def _environment(folder: Path) -> dict[str, str]:
    """PATH with the package's ``dsc-engine`` first and ``python3`` being this interpreter."""
    tools = folder.parent / f"{folder.name}-bin"
    tools.mkdir(exist_ok=True)
    for name in ("python3", "python"):
        link = tools / name
        if not link.exists():
            link.symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join([str(tools), str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("HTTP_PROXY", None)
    env.pop("HTTPS_PROXY", None)
    return env


def _shell_script(block: Block) -> str:
    if block.lang != "console":
        return block.text
    commands, pending = [], ""
    for line in block.text.splitlines():
        if pending:
            pending += "\n" + line
        elif line.startswith("$ "):
            pending = line[2:]
        if pending and not pending.endswith("\\"):
            commands.append(pending)
            pending = ""
    return "\n".join(commands) + "\n"


def _defines_tests(source: str) -> bool:
    tree = ast.parse(source)
    return any(isinstance(node, ast.FunctionDef) and node.name.startswith("test_") for node in tree.body)


def run_block(block: Block, folder: Path, number: int) -> subprocess.CompletedProcess[str]:
    env = _environment(folder)
    if block.lang in SHELLS:
        argv = ["bash", "-e", "-o", "pipefail", "-c", _shell_script(block)]
    else:
        script = folder / f"block_{number}_line_{block.line}.py"
        if _defines_tests(block.text):
            script = script.with_name(f"test_{script.name}")
            script.write_text(block.text, encoding="utf-8")
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", script.name]
        else:
            script.write_text(block.text, encoding="utf-8")
            argv = [sys.executable, script.name]
    # a session of its own, so that a block that does not end (a server) is stopped whole
    with subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            stderr += f"\n(stopped after {BLOCK_TIMEOUT} s: mark a block that does not end <!-- not run: why -->)"
            return subprocess.CompletedProcess(argv, -signal.SIGKILL, stdout, stderr)
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_docs_every_example_runs_in_order(document: Path, tmp_path: Path) -> None:
    folder = tmp_path / document.stem
    folder.mkdir()
    for number, block in enumerate(b for b in blocks(document) if b.runs):
        done = run_block(block, folder, number)
        assert done.returncode == 0, (
            f"{block} exited {done.returncode}\n--- block\n{block.text}--- stdout\n{done.stdout[-3000:]}"
            f"--- stderr\n{done.stderr[-3000:]}"
        )


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_docs_every_fence_names_its_language_and_closes(document: Path) -> None:
    unnamed = [str(b) for b in blocks(document) if not b.lang]
    assert not unnamed, f"fenced blocks without a language (```sh, ```python, ```text ...): {unnamed}"
    swallowed = [str(b) for b in blocks(document) if any(line.lstrip().startswith("```") for line in b.text.splitlines())]
    assert not swallowed, f"blocks holding a fence line (a closing fence with text after it?): {swallowed}"


def test_docs_block_reader_sees_markers_and_console_commands(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n```sh\necho one\n```\n\n<!-- not run: a server -->\n```sh\nsleep 1000\n```\n\n"
        "- item\n\n  ```python\n  print(2)\n  ```\n\n```console\n$ echo a \\\n  b\nout\n```\n",
        encoding="utf-8",
    )
    found = list(blocks(page))
    assert [(b.lang, b.runs, b.text) for b in found] == [
        ("sh", True, "echo one\n"),
        ("sh", False, "sleep 1000\n"),
        ("python", True, "print(2)\n"),
        ("console", True, "$ echo a \\\n  b\nout\n"),
    ]
    assert _shell_script(found[3]) == "echo a \\\n  b\n"


def test_readme_hypothesis_example_fails_when_no_error_is_raised() -> None:
    """The README's example must catch a client that answers a request the service refuses."""
    (block,) = [b for b in blocks(ROOT / "README.md") if "invalid_requests" in b.text]
    namespace: dict[str, object] = {}
    exec(compile(block.text, str(block), "exec"), namespace)

    class Lenient:
        def call(self, action: str, params: object) -> dict[str, object]:
            return {}

    namespace["Engine"] = Lenient
    # The failure is the expected outcome: found at the first example, it is not shrunk (shrinking
    # a failure that every example has took half a minute) nor saved to the example database.
    test = settings(phases=[Phase.explicit, Phase.generate], database=None)(namespace["test_my_client_handles_errors"])
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        test()
