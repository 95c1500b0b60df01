"""Failures of the benchmark harness, as typed :class:`~dsc_engine.errors.DscError` subclasses::

    DscError
    └── BenchmarkError           the harness cannot produce trustworthy figures
        ├── WorkloadError        a workload query uses a parameter the harness does not model
        ├── CrossCheckError      two runners answered one query differently (query, runners, diff)
        └── WorkerError          a runner subprocess failed (runner, exit status, its stderr)
"""

from __future__ import annotations

from dsc_engine.errors import DscError


class BenchmarkError(DscError):
    """The benchmark harness cannot produce trustworthy figures."""


class WorkloadError(BenchmarkError):
    """A workload query names a parameter (or value) that the reference runners do not model."""

    def __init__(self, query: str, reason: str) -> None:
        self.query = query
        self.reason = reason
        super().__init__(f"workload query {query!r}: {reason}")


class CrossCheckError(BenchmarkError):
    """Two runners returned different TotalCount or page contents for the same query."""

    def __init__(self, query: str, left: str, right: str, diff: str) -> None:
        self.query = query
        self.left = left
        self.right = right
        self.diff = diff
        super().__init__(f"runners {left} and {right} disagree on query {query!r}: {diff}")


class WorkerError(BenchmarkError):
    """A runner subprocess exited with an error."""

    def __init__(self, runner: str, status: int, stderr: str) -> None:
        self.runner = runner
        self.status = status
        self.stderr = stderr
        tail = "\n".join(stderr.strip().splitlines()[-30:])
        super().__init__(f"runner {runner} exited with status {status}:\n{tail}")
