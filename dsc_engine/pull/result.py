"""The end of a pull: the part files joined into the output, and a report that reconciles them.

The output is JSON Lines, one API response page per line exactly as the part files hold them
(``response.body.to_map()`` of each call), every job in the order asked, each job's slices newest
first: the service's own order, which ``dsc-engine load`` imports as it is. While joining, the
records of each slice's lines are counted again; a count that differs from the slice's TotalCount
stops the pull (a part file changed behind its back) before the output is replaced. The output
is written to a temporary file beside it, flushed and renamed, so it is never half-written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from dsc_engine.errors import PullError
from dsc_engine.io.atomic import replacing
from dsc_engine.pull.checkpoint import Done, Parts, State
from dsc_engine.pull.pacing import CallStats
from dsc_engine.pull.plan import PullPlan


@attrs.frozen
class SliceReport:
    """One slice: its bounds as text, its TotalCount, its pages, the records the output holds for
    it, and how often it was pulled again because it changed while paged."""

    start: str
    end: str
    total_count: int
    pages: int
    records: int
    restarts: int

    @property
    def reconciled(self) -> bool:
        return self.records == self.total_count

    def to_json(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "reconciled": self.reconciled}


@attrs.frozen
class JobReport:
    """One operation's pull: its window as text and its slices, newest first."""

    action: str
    since: str
    until: str
    slices: tuple[SliceReport, ...]

    @property
    def total_count(self) -> int:
        return sum(s.total_count for s in self.slices)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.slices)

    @property
    def pages(self) -> int:
        return sum(s.pages for s in self.slices)

    @property
    def reconciled(self) -> bool:
        return all(s.reconciled for s in self.slices)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action, "since": self.since, "until": self.until,
            "total_count": self.total_count, "records": self.records, "pages": self.pages,
            "reconciled": self.reconciled, "slices": [s.to_json() for s in self.slices],
        }


@attrs.frozen
class PullReport:
    """What a pull wrote (``output``), per job, and what its calls took: ``calls`` (retries
    included), ``retries`` and the seconds ``waited`` before them, the codes retried,
    ``restarts`` of slices that changed while paged, slices ``repulled`` because the final check
    found them changed, and whether the pull ``resumed`` from a checkpoint."""

    output: str
    jobs: tuple[JobReport, ...]
    calls: int
    retries: int
    waited: float
    retried_codes: Mapping[str, int]
    restarts: int
    repulled: int
    resumed: bool

    @property
    def records(self) -> int:
        return sum(job.records for job in self.jobs)

    @property
    def reconciled(self) -> bool:
        return all(job.reconciled for job in self.jobs)

    def to_json(self) -> dict[str, Any]:
        return {
            "output": self.output, "records": self.records, "reconciled": self.reconciled,
            "calls": self.calls, "retries": self.retries, "waited_seconds": round(self.waited, 3),
            "retried_codes": dict(self.retried_codes), "restarts": self.restarts,
            "repulled_after_final_check": self.repulled,
            "resumed": self.resumed, "jobs": [job.to_json() for job in self.jobs],
        }


def newest_first(done: list[Done]) -> list[Done]:
    return sorted(done, key=lambda d: d.slice.lo, reverse=True)


def assemble(
    state: State, plans: Mapping[str, PullPlan], parts: Parts, output: Path
) -> dict[tuple[str, int], int]:
    """Join the part files into ``output`` (module docstring); the records of each slice, by
    ``(action, slice start)``."""
    counts: dict[tuple[str, int], int] = {}
    with replacing(output) as out:
        for job in state.jobs:
            plan = plans[job.action]
            for done in newest_first(job.done):
                count = _copy(parts, job.action, done, plan, out) if done.total else 0
                if count != done.total:
                    raise PullError(
                        f"{parts.path(job.action, done.slice)} holds {count} records where its "
                        f"slice's TotalCount is {done.total}; delete the checkpoint to pull again"
                    )
                counts[(job.action, done.slice.lo)] = count
    return counts


def _copy(parts: Parts, action: str, done: Done, plan: PullPlan, out: Any) -> int:
    """Append the slice's part file to ``out``; its records."""
    count = 0
    for line, page in parts.pages(action, done.slice, plan.operation.list_key):
        count += len(plan.items(page))
        out.write(line)
    return count


def report(
    state: State,
    plans: Mapping[str, PullPlan],
    counts: Mapping[tuple[str, int], int],
    stats: CallStats,
    *,
    restarts: int,
    repulled: int,
    resumed: bool,
) -> PullReport:
    jobs = []
    for job in state.jobs:
        axis = plans[job.action].axis
        slices = tuple(
            SliceReport(axis.show(d.slice.lo), axis.show(d.slice.hi), d.total, d.pages,
                        counts[(job.action, d.slice.lo)], d.restarts)
            for d in newest_first(job.done)
        )
        jobs.append(JobReport(job.action, axis.show(job.since), axis.show(job.until), slices))
    return PullReport(
        state.output, tuple(jobs), stats.calls, stats.retries, stats.waited,
        dict(stats.retried_codes), restarts, repulled, resumed,
    )
