"""Pulling a window slice by slice so that the result is complete while records keep arriving.

The service orders records newest first, so a record added while a window is paged lands above
the pages already read and pushes the others down a place: paging on would read one of them twice.
A pull therefore pages only *slices* whose contents stay put while they are paged:

1. The window ends in the past (``--until`` defaults to the last whole unit before the pull
   starts), so records arriving as they happen fall after it.
2. Page 1 of a slice gives its TotalCount. A slice holding more than ``max_depth`` pages is split
   in two halves of its time range, newer half first, until each part fits; a single instant
   (one millisecond, one DMS second) that still does not fit stops the pull with a
   :class:`PullError` saying so (a larger ``max_depth`` gets past it).
3. Its pages are written to the slice's part file as received. Every page must report the same
   TotalCount; the pages must hold exactly TotalCount records (records beside a TotalCount of 0
   too); and after the last page, page 1 is
   asked again and must be unchanged (TotalCount and records). Otherwise the slice changed while
   it was paged: its part file is emptied and the slice pulled again, at most
   :data:`MAX_RESTARTS` times. A slice of one page is one answer and needs no second look.
4. When every slice is done, each is checked once more (page 1 again): one that changed since is
   pulled again. Up to :data:`RECHECK_PASSES` such passes run, until one finds no change.

So a record inserted upstream during a pull is in the result exactly once, or falls after the
window's end, or (only if its time lies inside a slice already checked for the last time, that
is a record arriving late with a time in the past) is missed; it is never in the result twice.
That holds while records are only added: one removed and another added in the same slice while it
is paged leave TotalCount as it was and shift the pages between them unseen (``docs/cli.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from dsc_engine.errors import PullError
from dsc_engine.pull import checkpoint
from dsc_engine.pull.axes import Slice
from dsc_engine.pull.checkpoint import Done, Job, Parts, State
from dsc_engine.pull.plan import PullPlan
from dsc_engine.pull.upstream import Upstream

#: How many times a slice that changed while it was paged is pulled again before giving up.
MAX_RESTARTS = 5
#: How many times every slice is checked once more at the end (while some changed).
RECHECK_PASSES = 3


@attrs.frozen
class Progress:
    """Where a pull stands: the job's ``action``, records ``written`` (in slices done and pages of
    the slice in progress), the TotalCount ``expected`` of its whole window (``None`` before the
    first answer), and ``slices`` done."""

    action: str
    written: int
    expected: int | None
    slices: int


class Puller:
    """Pulls every job of ``state`` through ``upstream``, saving the checkpoint at each step."""

    def __init__(
        self,
        upstream: Upstream,
        plans: Mapping[str, PullPlan],
        state: State,
        checkpoint_path: Path,
        parts: Parts,
        *,
        max_depth: int,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.upstream = upstream
        self.plans = plans
        self.state = state
        self.checkpoint_path = checkpoint_path
        self.parts = parts
        self.max_depth = max_depth
        self.progress = progress
        #: times a slice was pulled again because it changed while it was paged
        self.restarts = 0
        #: slices pulled again because the final check found them changed
        self.repulled = 0
        self._in_progress = 0

    def run(self) -> None:
        for job in self.state.jobs:
            self._drain(job)
        self._recheck()

    # --------------------------------------------------------------------------- the slices

    def _drain(self, job: Job) -> None:
        plan = self.plans[job.action]
        while job.todo:
            piece = job.todo[-1]
            outcome = self._slice(job, plan, piece)
            job.todo.pop()
            if isinstance(outcome, Done):
                job.done.append(outcome)
            else:
                newer, older = outcome
                job.todo.extend((older, newer))  # a stack: the newer half is pulled next
            self._in_progress = 0
            self._save()
            self._report(job)

    def _slice(self, job: Job, plan: PullPlan, piece: Slice) -> Done | tuple[Slice, Slice]:
        """The slice pulled in full (its part file written), or its two halves when too deep."""
        change = ""
        for restarts in range(MAX_RESTARTS + 1):
            first = self._call(plan, piece, 1)
            total = plan.total(first)
            if job.expected is None:
                job.expected = total
            if total > self.max_depth * plan.page_size:
                if piece.instant:
                    raise self._too_deep(plan, piece, total)
                self.parts.discard(job.action, piece)
                return piece.halves()
            if total == 0 and not plan.items(first):  # records beside a TotalCount of 0 are paged, and differ
                self.parts.discard(job.action, piece)
                return Done(piece, 0, 0, restarts)
            pages = math.ceil(total / plan.page_size)
            change = self._page_through(job, plan, piece, first, total, pages)
            if not change:
                return Done(piece, total, pages, restarts)
            self.restarts += 1
            self._in_progress = 0
            self._report(job)
        raise PullError(
            f"{plan.operation.action}: the slice {self._show(plan, piece)} kept changing upstream while "
            f"it was paged ({MAX_RESTARTS + 1} attempts, the last: {change}); pull a window that ends further "
            "in the past"
        )

    def _page_through(
        self, job: Job, plan: PullPlan, piece: Slice, first: Mapping[str, Any], total: int, pages: int
    ) -> str:
        """Write every page of the slice; ``""`` when it held still while paged, else what changed
        (see module docstring)."""
        with self.parts.writing(job.action, piece) as part:
            got = self._write(job, part, plan, first)
            for number in range(2, pages + 1):
                body = self._call(plan, piece, number)
                if plan.total(body) != total:
                    return f"page {number} reported a TotalCount of {plan.total(body)}, page 1 {total}"
                got += self._write(job, part, plan, body)
            if got != total:
                return f"its pages held {got} records, its TotalCount is {total}"
            if pages > 1 and not self._same_first_page(plan, piece, first):
                return "page 1 asked again after the last page was not the same"
            part.commit()
            return ""

    def _write(self, job: Job, part: checkpoint.PartWriter, plan: PullPlan, body: Mapping[str, Any]) -> int:
        count = len(plan.items(body))
        part.page(body)
        self._in_progress += count
        self._report(job)
        return count

    def _same_first_page(self, plan: PullPlan, piece: Slice, first: Mapping[str, Any]) -> bool:
        again = self._call(plan, piece, 1)
        return plan.total(again) == plan.total(first) and plan.items(again) == plan.items(first)

    # ----------------------------------------------------------------------- the final check

    def _recheck(self) -> None:
        """Check every slice once more; pull again those that changed (module docstring, step 4)."""
        for _ in range(RECHECK_PASSES):
            changed = False
            for job in self.state.jobs:
                plan = self.plans[job.action]
                for done in list(job.done):
                    if self._still(job, plan, done):
                        continue
                    changed = True
                    self.repulled += 1
                    job.done.remove(done)
                    job.todo.append(done.slice)
                    self._save()
                    self._drain(job)
            if not changed:
                return

    def _still(self, job: Job, plan: PullPlan, done: Done) -> bool:
        body = self._call(plan, done.slice, 1)
        if plan.total(body) != done.total:
            return False
        if done.total == 0:
            return not plan.items(body)
        return plan.items(body) == plan.items(self.parts.first_page(job.action, done.slice, plan.operation.list_key))

    # ------------------------------------------------------------------------------ helpers

    def _call(self, plan: PullPlan, piece: Slice, page: int) -> dict[str, Any]:
        return self.upstream.call(plan.operation, plan.request(piece, page))

    def _save(self) -> None:
        checkpoint.save(self.state, self.checkpoint_path)

    def _report(self, job: Job) -> None:
        if self.progress is not None:
            self.progress(Progress(job.action, job.written + self._in_progress, job.expected, len(job.done)))

    def _show(self, plan: PullPlan, piece: Slice) -> str:
        return f"[{plan.axis.show(piece.lo)}, {plan.axis.show(piece.hi)}]"

    def _too_deep(self, plan: PullPlan, piece: Slice, total: int) -> PullError:
        needed = math.ceil(total / plan.page_size)
        return PullError(
            f"{plan.operation.action}: {total} records share the one instant {plan.axis.show(piece.lo)} "
            f"({plan.axis.unit}), more than {self.max_depth} pages of {plan.page_size}; a slice cannot "
            f"be cut finer than that. Pull again with --max-depth {needed} or more (the checkpoint "
            "keeps what is done)"
        )
