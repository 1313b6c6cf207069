"""The SQLite job store: durable records, conditional state changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.jobs import JobMode, JobParams, JobRecord, JobStatus
from app.services.job_store import JobStore

PARAMS = JobParams(text="xin chào", voice="main", speed=0.9, seed=1, nfe_step=8, cfg_strength=2.0)


def _record(job_id: str, created_at: float = 100.0, mode: JobMode = JobMode.async_) -> JobRecord:
    return JobRecord(id=job_id, status=JobStatus.queued, mode=mode, params=PARAMS, created_at=created_at)


@pytest.fixture
def store(tmp_path: Path):
    store = JobStore(tmp_path / "data" / "jobs.sqlite3")
    yield store
    store.close()


def _complete(store: JobStore, job_id: str, finished_at: float = 200.0) -> bool:
    return store.complete(
        job_id,
        output_filename=f"{job_id}.wav",
        sample_rate=24000,
        duration=1.5,
        processing_time=0.5,
        finished_at=finished_at,
        webhook_pending=False,
    )


def test_insert_get_and_duplicate_ids(store: JobStore) -> None:
    assert store.insert(_record("a"))
    assert not store.insert(_record("a", created_at=999.0))
    record = store.get("a")
    assert record is not None and record.created_at == 100.0 and record.params == PARAMS
    assert record.status is JobStatus.queued and record.mode is JobMode.async_
    assert store.get("missing") is None


def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    first = JobStore(path)
    first.insert(_record("kept"))
    first.mark_processing("kept", 150.0, chunks_total=3)
    first.close()
    second = JobStore(path)
    record = second.get("kept")
    assert record is not None and record.status is JobStatus.processing and record.chunks_total == 3
    second.close()


def test_a_completed_job_never_becomes_failed_or_cancelled(store: JobStore) -> None:
    store.insert(_record("done"))
    store.mark_processing("done", 150.0, 1)
    assert _complete(store, "done")
    assert not store.fail("done", code="job_timeout", message="late", finished_at=300.0, webhook_pending=True)
    assert not store.cancel("done", finished_at=300.0, webhook_pending=False)
    assert not _complete(store, "done", finished_at=400.0)
    record = store.get("done")
    assert record is not None
    assert record.status is JobStatus.completed and record.error_code is None and record.finished_at == 200.0
    assert record.progress == 1.0 and record.chunks_done == 1


def test_a_cancelled_job_does_not_complete(store: JobStore) -> None:
    store.insert(_record("gone"))
    assert store.cancel("gone", finished_at=120.0, webhook_pending=True)
    assert not _complete(store, "gone")
    record = store.get("gone")
    assert record is not None and record.status is JobStatus.cancelled and record.error_code == "job_cancelled"
    assert record.webhook_state == "pending"


def test_requeue_after_a_crash_keeps_submission_order(store: JobStore) -> None:
    for index, job_id in enumerate(["q1", "p1", "q2", "c1"]):
        store.insert(_record(job_id, created_at=100.0 + index))
    store.mark_processing("p1", 150.0, 4)
    store.update_progress("p1", 0.5, 2, 4)
    store.mark_processing("c1", 150.0, 1)
    _complete(store, "c1")
    requeued = store.requeue_unfinished()
    assert [record.id for record in requeued] == ["q1", "p1", "q2"]
    p1 = store.get("p1")
    assert p1 is not None and p1.status is JobStatus.queued and p1.progress == 0 and p1.recoveries == 1
    c1 = store.get("c1")
    assert c1 is not None and c1.status is JobStatus.completed and c1.recoveries == 0


def test_return_to_queue_only_touches_unfinished_jobs(store: JobStore) -> None:
    store.insert(_record("running"))
    store.insert(_record("finished"))
    store.mark_processing("running", 150.0, 2)
    _complete(store, "finished")
    store.return_to_queue(["running", "finished", "unknown"])
    assert store.get("running").status is JobStatus.queued  # type: ignore[union-attr]
    assert store.get("finished").status is JobStatus.completed  # type: ignore[union-attr]


def test_counts_and_unfinished(store: JobStore) -> None:
    for job_id in ("a", "b", "c"):
        store.insert(_record(job_id))
    _complete(store, "a")
    store.fail("b", code="synthesis_failed", message="boom", finished_at=1.0, webhook_pending=False)
    counts = store.count_by_status()
    assert counts[JobStatus.completed] == counts[JobStatus.failed] == counts[JobStatus.queued] == 1
    assert counts[JobStatus.cancelled] == 0
    assert [record.id for record in store.unfinished()] == ["c"]


def test_download_confirmation_keeps_the_first_time(store: JobStore) -> None:
    store.insert(_record("d"))
    _complete(store, "d")
    assert store.confirm_download("d", 500.0).download_confirmed_at == 500.0  # type: ignore[union-attr]
    assert store.confirm_download("d", 900.0).download_confirmed_at == 500.0  # type: ignore[union-attr]


def test_outputs_due_by_confirmation_and_ttl(store: JobStore) -> None:
    for job_id, finished in (("old", 0.0), ("confirmed", 1000.0), ("fresh", 1000.0)):
        store.insert(_record(job_id))
        _complete(store, job_id, finished_at=finished)
    store.confirm_download("confirmed", 1100.0)
    due = store.outputs_due(now=1200.0, confirmed_keep=60.0, ttl=500.0)
    assert [(record.id, reason) for record, reason in due] == [("old", "ttl"), ("confirmed", "confirmed")]
    store.mark_output_removed("old", reason="ttl", at=1200.0)
    assert "old" not in store.referenced_outputs() and "old.wav" not in store.referenced_outputs()
    assert store.referenced_outputs() == {"confirmed.wav", "fresh.wav"}
    assert [record.id for record in store.outputs_oldest_first()] == ["confirmed", "fresh"]


def test_old_finished_records_are_forgotten_once_their_audio_is_gone(store: JobStore) -> None:
    store.insert(_record("with-audio"))
    _complete(store, "with-audio", finished_at=10.0)
    store.insert(_record("audio-removed"))
    _complete(store, "audio-removed", finished_at=10.0)
    store.mark_output_removed("audio-removed", reason="ttl", at=20.0)
    store.insert(_record("failed"))
    store.fail("failed", code="x", message="y", finished_at=10.0, webhook_pending=False)
    store.insert(_record("queued"))
    assert store.delete_finished_before(100.0) == 2
    assert store.get("with-audio") is not None and store.get("queued") is not None
    assert store.get("audio-removed") is None and store.get("failed") is None


def test_pending_webhooks(store: JobStore) -> None:
    store.insert(_record("w"))
    store.complete(
        "w",
        output_filename="w.wav",
        sample_rate=24000,
        duration=1.0,
        processing_time=1.0,
        finished_at=5.0,
        webhook_pending=True,
    )
    assert [record.id for record in store.pending_webhooks()] == ["w"]
    store.set_webhook_state("w", "delivered")
    assert store.pending_webhooks() == []
