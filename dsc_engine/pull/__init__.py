"""Pulling logs from the real cloud, with the official SDKs, into files ``load`` imports as they are.

    from dsc_engine.pull import pull

    report = pull("audit", "audit.jsonl", since="2026-10-01", region="cn-zhangjiakou")
    print(report.records, report.reconciled)

:func:`pull` pages through one or all three operations over a time window, with the user's
credentials (``pull/credentials.py``), at the service's pace (``pull/pacing.py``: 10 calls a
second, retries of throttling and server errors with capped exponential backoff, any other
refusal raised as :class:`~dsc_engine.errors.UpstreamError`). The window is cut into slices
that each stay put while they are paged and hold at most ``max_depth`` pages
(``pull/slicing.py``, which says exactly what is guaranteed while records keep arriving). Each
slice's pages go to a part file and a checkpoint records the slices done
(``pull/checkpoint.py``), so a pull that is killed resumes, run again with the same arguments,
with no gap and no duplicate; at the end the parts are joined into the output, one page per
line (``pull/result.py``). ``docs/cli.md`` walks from a pull to a replay.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import attrs

from dsc_engine.errors import CheckpointError, OutputError, PullError, UsageError
from dsc_engine.io.atomic import check_replaceable, sole_writer
from dsc_engine.models import RecordKind
from dsc_engine.pull import checkpoint
from dsc_engine.pull import credentials as _credentials
from dsc_engine.pull.axes import Slice, read_bound
from dsc_engine.pull.checkpoint import Job, Parts, State
from dsc_engine.pull.credentials import Credentials, CredentialSource
from dsc_engine.pull.pacing import SERVICE_RATE, Backoff, Paced, RateLimiter
from dsc_engine.pull.plan import PullPlan, operations_for, page_size_for, read_params
from dsc_engine.pull.result import PullReport, assemble, report
from dsc_engine.pull.slicing import Progress, Puller
from dsc_engine.pull.upstream import Endpoint, SdkUpstream, Upstream
from dsc_engine.wire import times

#: Pages a slice may hold before it is split (deep pages of the real APIs are slow).
DEFAULT_MAX_DEPTH = 100


@attrs.frozen
class Timing:
    """Where a pull gets time from: ``now`` (epoch seconds, for the default end of the window),
    ``monotonic`` and ``sleep`` (rate limit and backoff), and the randomness of the jitter."""

    now: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None


def default_checkpoint(output: str | os.PathLike[str]) -> Path:
    """The checkpoint of a pull into ``output`` unless one is named: ``OUTPUT.checkpoint.json``."""
    path = Path(os.path.abspath(output))
    return path.with_name(path.name + ".checkpoint.json")


def parts_folder(output: str | os.PathLike[str]) -> Path:
    """The folder of a pull's part files: ``OUTPUT.parts`` beside the output."""
    path = Path(os.path.abspath(output))
    return path.with_name(path.name + ".parts")


def pull(
    what: str | RecordKind | Iterable[str | RecordKind],
    out: str | os.PathLike[str],
    *,
    since: str | int,
    until: str | int | None = None,
    zone: dt.tzinfo = times.UTC,
    params: Mapping[str, object] | None = None,
    credentials: Credentials | CredentialSource | None = None,
    region: str | None = None,
    endpoint: str | None = None,
    upstream: Upstream | None = None,
    page_size: int | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    rate: float = SERVICE_RATE,
    backoff: Backoff = Backoff(),
    checkpoint_path: str | os.PathLike[str] | None = None,
    timing: Timing = Timing(),
    progress: Callable[[Progress], None] | None = None,
) -> PullReport:
    """Pull ``what`` (``"all"``, a kind, an action, or several) over ``[since, until]`` into ``out``.

    ``since``/``until``: UNIX milliseconds or a time literal (``2026-10-01``, ``2026-10-01
    08:00:00``, with ``Z`` or ``+08:00`` for the Sddp operations; in ``zone`` without), or for DMS
    a naive wall-clock time (never converted); ``until`` defaults to the last whole unit before the pull starts.
    ``params`` are API filters by wire name (text as ``--param`` gives them, or typed values).
    The calls go through ``upstream`` when given, else through the official SDK with
    ``credentials`` (default: the environment, then the SDK's default chain) to ``region``
    or ``endpoint`` (``host[:port]`` or a URL, for every product). ``page_size`` defaults to each
    operation's largest page. A checkpoint of the same pull (``checkpoint_path``, default
    ``OUT.checkpoint.json``) is resumed; it and the part files are removed once ``out`` is written,
    or when the pull fails before any slice is done.
    """
    try:  # a bad argument (exit 2), said before anything is called
        where = Endpoint.parse(endpoint) if endpoint else None
    except PullError as exc:
        raise UsageError("--endpoint", endpoint, str(exc)) from None
    operations = operations_for(what)
    filters = read_params(operations, params or {})
    if max_depth < 1:
        raise UsageError("--max-depth", max_depth, "must be 1 or more")
    if not rate > 0:
        raise UsageError("--rate", rate, "must be positive")
    plans = {op.action: PullPlan(op, filters[op.action], page_size_for(op, page_size)) for op in operations}
    output = Path(os.path.abspath(out))
    saved_at = Path(os.path.abspath(checkpoint_path)) if checkpoint_path else default_checkpoint(output)
    if saved_at == output:
        raise UsageError("--checkpoint", str(saved_at), "names the output itself")
    if saved_at == parts_folder(output):
        raise UsageError("--checkpoint", str(saved_at), "names the folder of the output's part files")
    for path, option in ((output, "--out"), (saved_at, "--checkpoint")):
        if path.is_dir():
            raise UsageError(option, str(path), "is a folder; name the file to write")
    for path, role in ((output, "the output"), (saved_at, "the checkpoint")):
        if not path.parent.is_dir():
            raise OutputError(str(path), f"the folder of {role} does not exist")
    check_replaceable(output)  # a pipe or a device, refused by the final rename, is told before any call
    if upstream is None:
        upstream = SdkUpstream(
            _credentials.source(credentials), region=region, endpoint=where
        )
    busy = "another pull into it is running; wait for it to end, or pull into another file"
    shared = "another pull keeps its checkpoint there; name another --checkpoint"
    # one pull at a time writes an output, its parts and checkpoint, or a checkpoint named for it
    with sole_writer(output, busy), sole_writer(saved_at, shared):
        state, resumed = _state(plans, output, saved_at, since, until, zone, timing.now())
        paced = Paced(
            upstream, RateLimiter(rate, timing.monotonic, timing.sleep), backoff, sleep=timing.sleep, rng=timing.rng
        )
        parts = Parts(parts_folder(output))
        puller = Puller(paced, plans, state, saved_at, parts, max_depth=max_depth, progress=progress)
        try:
            puller.run()
        except BaseException:
            if not any(job.done or job.todo != [Slice(job.since, job.until)] for job in state.jobs):
                parts.remove_all()  # nothing done yet: no checkpoint to stand in the way of another try
                saved_at.unlink(missing_ok=True)
            raise
        counts = assemble(state, plans, parts, output)
        parts.remove_all()
        saved_at.unlink(missing_ok=True)
    return report(
        state, plans, counts, paced.stats, restarts=puller.restarts, repulled=puller.repulled, resumed=resumed
    )


def _state(
    plans: Mapping[str, PullPlan],
    output: Path,
    saved_at: Path,
    since: str | int,
    until: str | int | None,
    zone: dt.tzinfo,
    now: float,
) -> tuple[State, bool]:
    """The state to pull from: the checkpoint's when it is of the same pull, else a fresh one."""
    jobs = []
    for action, plan in plans.items():
        lo = read_bound(plan.operation, "--since", str(since), zone)
        hi = plan.axis.last_complete(now) if until is None else read_bound(plan.operation, "--until", str(until), zone)
        jobs.append(Job(action, lo, hi, {k: v for k, v in plan.filters.items()}))
    fresh = State(str(output), jobs)
    if saved_at.exists():
        saved = checkpoint.load(saved_at)
        if until is None:  # the end the interrupted pull fixed when it started
            ends = {job.action: job.until for job in saved.jobs}
            for job in fresh.jobs:
                job.until = ends.get(job.action, job.until)
        reason = saved.same_pull(fresh)
        if reason is not None:
            raise CheckpointError(str(saved_at), f"the checkpoint of another pull: {reason}; delete it to start over")
        return saved, True
    for job in fresh.jobs:
        if job.since > job.until:
            axis = plans[job.action].axis
            raise UsageError(
                "--since", str(since),
                f"{job.action}: the window starts at {axis.show(job.since)}, after its end {axis.show(job.until)}",
            )
        job.todo.append(Slice(job.since, job.until))
    checkpoint.save(fresh, saved_at)
    return fresh, False


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "Backoff",
    "Credentials",
    "Endpoint",
    "Progress",
    "PullError",
    "PullReport",
    "SdkUpstream",
    "Timing",
    "Upstream",
    "default_checkpoint",
    "parts_folder",
    "pull",
]
