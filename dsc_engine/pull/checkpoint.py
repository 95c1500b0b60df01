"""What a pull has done so far, kept on disk so that a killed pull resumes with no gap and no
duplicate.

**Part files.** Each slice is written to a file of its own in the parts folder beside the
output (``OUT.parts/``), one page per line as it arrives. A slice is *done* once all its pages are
in its part file, the file is flushed to disk (``fsync``), and the checkpoint says so. Only then
does anything else rely on it. A part file of a slice that is not done is partial: the slice is
pulled again from its first page and the file rewritten from its start. Since slices share no
time, restarting one cannot duplicate or drop a record of another. When every slice is done, the
parts are joined into the output, newest slice first (the service's own order), and the parts
folder and the checkpoint are removed.

**The checkpoint** (``OUT.checkpoint.json`` unless given) is one JSON object, replaced atomically
(written to a temporary file, flushed, renamed) after every change::

    {"dsc-engine pull checkpoint": 1, "output": "/abs/OUT",
     "jobs": [{"action": "DescribeAuditLogs", "since": 1790000000000, "until": 1792000000000,
               "params": {"Lang": "en_us"}, "expected": 5100,
               "done": [[lo, hi, total, pages, restarts], ...], "todo": [[lo, hi], ...]}]}

``since``/``until`` are the window in the operation's units (``pull/axes.py``), ``todo`` a stack
(the last slice is pulled next), ``expected`` the TotalCount of the whole window at the first
call (for the progress bar). A checkpoint resumes only the same pull: the same output, actions,
windows and parameters (the page size, depth limit and rate may change between runs); its slices,
done and to do, must cover each window exactly once, else it is damaged.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from dsc_engine.errors import CheckpointError, PullError
from dsc_engine.io.atomic import replacing
from dsc_engine.io.jsontext import compact
from dsc_engine.pull.axes import Slice

MAGIC = "dsc-engine pull checkpoint"
VERSION = 1


@attrs.frozen
class Done:
    """A slice pulled in full: its TotalCount, the pages written and how often it was restarted."""

    slice: Slice
    total: int
    pages: int
    restarts: int = 0


@attrs.define
class Job:
    """The pull of one operation over one window: its slices done and still to do."""

    action: str
    since: int
    until: int
    params: dict[str, Any]
    expected: int | None = None
    done: list[Done] = attrs.field(factory=list)
    todo: list[Slice] = attrs.field(factory=list)

    def identity(self) -> tuple[str, int, int, str]:
        return self.action, self.since, self.until, json.dumps(self.params, sort_keys=True)

    @property
    def written(self) -> int:
        """Records in the slices done."""
        return sum(done.total for done in self.done)


@attrs.define
class State:
    """Every job of a pull, and the output they are for."""

    output: str
    jobs: list[Job]

    def same_pull(self, other: State) -> str | None:
        """Why ``other`` is not the same pull as this one, or ``None`` when it is."""
        if self.output != other.output:
            return f"it is for the output {self.output}, not {other.output}"
        mine = [job.identity() for job in self.jobs]
        theirs = [job.identity() for job in other.jobs]
        if mine != theirs:
            return f"it is for {_describe(mine)}, not {_describe(theirs)}"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            MAGIC: VERSION,
            "output": self.output,
            "jobs": [
                {
                    "action": job.action,
                    "since": job.since,
                    "until": job.until,
                    "params": job.params,
                    "expected": job.expected,
                    "done": [[d.slice.lo, d.slice.hi, d.total, d.pages, d.restarts] for d in job.done],
                    "todo": [[s.lo, s.hi] for s in job.todo],
                }
                for job in self.jobs
            ],
        }


def _describe(identities: list[tuple[str, int, int, str]]) -> str:
    return "; ".join(f"{a} [{lo}, {hi}] params {p}" for a, lo, hi, p in identities)


# --------------------------------------------------------------------------------- the file


def save(state: State, path: Path) -> None:
    """Replace the checkpoint at ``path`` with ``state``, atomically."""
    text = json.dumps(state.to_json(), ensure_ascii=False, separators=(",", ":"))
    with replacing(path) as out:
        out.write(text)

def load(path: Path) -> State:
    """The state a checkpoint holds; :class:`CheckpointError` when it cannot be used."""
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(name, f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(name, f"not a checkpoint (not JSON: {exc})") from None
    try:
        return _state(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(name, f"a damaged checkpoint ({type(exc).__name__}: {exc}); delete it to start over") from None


def _state(data: Any) -> State:
    if not isinstance(data, dict) or data.get(MAGIC) != VERSION:
        raise ValueError(f"no {MAGIC!r} of version {VERSION}")
    jobs = []
    for entry in data["jobs"]:
        done = [Done(Slice(_int(lo), _int(hi)), _int(total), _int(pages), _int(restarts))
                for lo, hi, total, pages, restarts in entry["done"]]
        todo = [Slice(_int(lo), _int(hi)) for lo, hi in entry["todo"]]
        expected = entry["expected"]
        if not isinstance(entry["action"], str) or not isinstance(entry["params"], dict):
            raise TypeError("action must be a string and params an object")
        job = Job(entry["action"], _int(entry["since"]), _int(entry["until"]), entry["params"],
                  None if expected is None else _int(expected), done, todo)
        _check_cover(job)
        jobs.append(job)
    if not isinstance(data["output"], str):
        raise TypeError("output must be a string")
    return State(data["output"], jobs)


def _check_cover(job: Job) -> None:
    """A ``ValueError`` unless the job's slices, done and to do, cover its window once: a slice
    missing would leave a gap in the output, two sharing a unit would write its records twice."""
    window = f"its window [{job.since}, {job.until}]"
    at = job.since
    for piece in sorted([d.slice for d in job.done] + job.todo, key=lambda piece: piece.lo):
        if piece.lo > at:
            raise ValueError(f"the slices of {job.action} leave [{at}, {piece.lo - 1}] of {window} out")
        if piece.lo < at:
            raise ValueError(f"the slices of {job.action} cover {piece.lo} twice, or outside {window}")
        at = piece.hi + 1
    if at <= job.until:
        raise ValueError(f"the slices of {job.action} leave [{at}, {job.until}] of {window} out")
    if at > job.until + 1:
        raise ValueError(f"the slices of {job.action} cover {job.until + 1} to {at - 1}, outside {window}")


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {value!r}")
    return value


# ------------------------------------------------------------------------------- part files


class Parts:
    """The folder of part files, one per slice of each job."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, action: str, piece: Slice) -> Path:
        return self.folder / f"{action}.{piece.lo}.{piece.hi}.jsonl"

    @contextlib.contextmanager
    def writing(self, action: str, piece: Slice) -> Iterator[PartWriter]:
        """The slice's part file, emptied, for its pages; closed when the block ends."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path(action, piece), "w", encoding="utf-8", newline="\n") as out:
            yield PartWriter(out)

    def first_page(self, action: str, piece: Slice, list_key: str) -> Mapping[str, Any]:
        for _, page in self.pages(action, piece, list_key):
            return page
        raise PullError(f"{self.path(action, piece)}: empty where the slice's pages were written; delete the "
                        "checkpoint to pull again")

    def pages(self, action: str, piece: Slice, list_key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The slice's part file, line by line: each line as written and its page. A file that
        cannot be read, or a line that is not a page (an object with its ``list_key`` list of
        records) or lacks its line end (the file changed behind the pull's back), is a
        :class:`PullError` naming the file and the line."""
        path = self.path(action, piece)
        number = 0
        try:
            with open(path, "rb") as lines:
                for number, raw in enumerate(lines, 1):
                    line = raw.decode("utf-8")
                    if not line.endswith("\n"):  # joined as it is, it would run into the next page
                        raise ValueError("the line has no line end: the file is cut short")
                    page = json.loads(line)
                    if not isinstance(page, dict):
                        raise ValueError(f"a JSON {type(page).__name__}, not an object")
                    if not isinstance(page.get(list_key), list):
                        raise ValueError(f"a JSON object without its {list_key} list")
                    yield line, page
        except (OSError, ValueError) as exc:  # ValueError: a JSON or UTF-8 decoding error
            where = f"{path}, line {number}" if isinstance(exc, ValueError) else str(path)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise PullError(f"{where}: cannot be read as the slice's pages ({reason}); delete the checkpoint "
                            "to pull again") from exc

    def discard(self, action: str, piece: Slice) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(action, piece).unlink()

    def remove_all(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PartWriter:
    """Pages of one slice, one compact JSON line each, as received."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def page(self, body: Mapping[str, Any]) -> None:
        self._out.write(compact(body) + "\n")  # a lone surrogate the service sent stays escaped
        self._out.flush()

    def commit(self) -> None:
        """Everything written so far, on disk."""
        self._out.flush()
        os.fsync(self._out.fileno())
