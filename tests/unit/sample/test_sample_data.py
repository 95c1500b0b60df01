"""The sample generator is deterministic and realistic; the bundled data is its output."""

from __future__ import annotations

import collections
import statistics

import pytest

from dsc_engine.wire.codec import to_wire
from dsc_engine.models import RecordKind, ServiceType
from dsc_engine.sample import BUNDLED_SIZES, DEFAULT_SEED, bundled, generate
from dsc_engine.sample.generate import EPOCH_END, WINDOW_SECONDS, iterate


@pytest.mark.parametrize("kind", list(RecordKind))
def test_same_seed_same_records_other_seed_other_records(kind: RecordKind) -> None:
    assert generate(kind, 200, seed=7) == generate(kind, 200, seed=7)
    assert generate(kind, 200, seed=7) != generate(kind, 200, seed=8)


@pytest.mark.parametrize("kind", list(RecordKind))
def test_bundled_data_is_the_generators_output(kind: RecordKind) -> None:
    records = bundled(kind)
    assert len(records) == BUNDLED_SIZES[kind]
    assert [to_wire(r) for r in records] == [
        to_wire(r) for r in generate(kind, BUNDLED_SIZES[kind], DEFAULT_SEED)
    ]


def test_audit_logs_are_skewed_and_span_thirty_days() -> None:
    logs = generate(RecordKind.AUDIT_LOG, 5000)
    users = collections.Counter(log.user_name for log in logs)
    top_share = sum(count for _, count in users.most_common(5)) / len(logs)
    assert top_share > 0.25  # Zipf: a handful of users dominate
    assert len(users) > 50  # ... with a long tail
    rows = [log.effect_row for log in logs]
    assert statistics.median(rows) <= 2 and max(rows) >= 10_000
    times = [log.execute_time for log in logs]
    assert statistics.median(times) < 100 < max(times)
    end = int(EPOCH_END.timestamp() * 1000)
    created = [log.creation_time for log in logs]
    assert end - WINDOW_SECONDS * 1000 <= min(created) and max(created) <= end
    assert max(created) - min(created) > 25 * 24 * 3600 * 1000
    assert len(set(created)) < len(created)  # equal timestamps occur
    injections = [log for log in logs if "1=1" in log.sql_text or "union select" in log.sql_text]
    assert injections


def test_masking_runs_have_unique_ids_and_subtasks() -> None:
    runs = generate(RecordKind.MASKING_RUN, 2000)
    assert len({run.id for run in runs}) == len(runs)
    subtasks = [run for run in runs if run.main_process_id is not None]
    assert subtasks
    ids = {run.id for run in runs}
    assert all(run.main_process_id in ids for run in subtasks if run.main_process_id < max(ids))
    assert all(run.src_type_code == ServiceType(run.src_type).code for run in runs)
    end = int(EPOCH_END.timestamp() * 1000)
    assert all(end - WINDOW_SECONDS * 1000 <= run.start_time <= end for run in runs)


def test_dms_logs_carry_one_to_four_entries() -> None:
    logs = generate(RecordKind.DMS_LOG, 2000)
    counts = collections.Counter(len(log.sensitive_data_log) for log in logs)
    assert set(counts) == {1, 2, 3, 4}
    assert all("@" in log.db_display_name for log in logs)


@pytest.mark.parametrize("n", [-1, -5, "5", 2.5, True, None])
@pytest.mark.parametrize("kind", list(RecordKind))
def test_a_count_that_is_no_number_of_records_is_refused(kind: RecordKind, n: object) -> None:
    """``generate("audit", -5)`` gave an empty list, so a test built on it passed on no data,
    ``True`` one record; a string or a float failed inside with a TypeError about ``range``
    or ``<``. Each is now a ValueError naming ``n``, as an unknown kind is one naming the kind,
    from ``iterate`` too, at the call rather than at the first record."""
    with pytest.raises(ValueError, match=rf"^n: the number of records is an integer of 0 or more, not {n!r}"):
        generate(kind, n)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^n: "):
        iterate(kind, n)  # type: ignore[arg-type]
    assert generate(kind, 0) == []
