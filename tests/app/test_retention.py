"""Output storage and retention, with a fixed clock."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from app.core.config import Settings
from app.core.errors import InvalidNameError, OutputNotFoundError
from app.core.metrics import Metrics
from app.models.jobs import JobMode, JobParams, JobRecord, JobStatus
from app.services.job_store import JobStore
from app.services.output_storage import OutputStorage
from app.services.retention import OutputRetention

NOW = 1_000_000.0
PARAMS = JobParams(text="x", voice="main", speed=1.0, seed=1, nfe_step=8, cfg_strength=2.0)
AUDIO = np.zeros(2400, dtype=np.float32)


@pytest.fixture
def storage(tmp_path: Path) -> OutputStorage:
    return OutputStorage(tmp_path / "outputs")


def test_write_is_atomic_and_names_are_checked(storage: OutputStorage) -> None:
    name = storage.write("job-1", AUDIO, 24000)
    assert name == "job-1.wav"
    assert storage.existing_path(name).read_bytes()[:4] == b"RIFF"
    assert [entry.name for entry in storage.files()] == ["job-1.wav"]  # no temporary file left
    for bad in ("../x.wav", "..", ".hidden.wav", "a/b.wav", "a\\b.wav", "", "x" * 300):
        with pytest.raises(InvalidNameError):
            storage.path_for(bad)
    with pytest.raises(OutputNotFoundError):
        storage.existing_path("missing.wav")
    assert storage.media_type_for("job-1.wav") == "audio/wav"


def test_a_symlink_cannot_lead_outside(storage: OutputStorage, tmp_path: Path) -> None:
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF secret")
    (storage.root / "link.wav").symlink_to(secret)
    with pytest.raises(InvalidNameError):
        storage.path_for("link.wav")


def test_storage_ignores_files_it_does_not_own(storage: OutputStorage) -> None:
    (storage.root / ".gitkeep").write_text("")
    (storage.root / "notes.txt").write_text("keep me")
    storage.write("a", AUDIO, 24000)
    assert {entry.name for entry in storage.files()} == {"a.wav"}


@pytest.fixture
def world(tmp_path: Path, storage: OutputStorage):
    settings = Settings(
        output_dir=storage.root,
        data_dir=tmp_path / "data",
        voices_dir=tmp_path / "voices",
        confirmed_retention_seconds=600,
        output_ttl_seconds=86_400,
        output_max_bytes=0,
        job_record_ttl_seconds=7 * 86_400,
    )
    store = JobStore(settings.database_path)
    retention = OutputRetention(settings, store, storage, Metrics())
    yield settings, store, retention
    store.close()


def _finished_job(store: JobStore, storage: OutputStorage, job_id: str, finished_at: float) -> Path:
    store.insert(JobRecord(id=job_id, status=JobStatus.queued, mode=JobMode.sync, params=PARAMS, created_at=0.0))
    filename = storage.write(job_id, AUDIO, 24000)
    store.complete(
        job_id,
        output_filename=filename,
        sample_rate=24000,
        duration=0.1,
        processing_time=0.1,
        finished_at=finished_at,
        webhook_pending=False,
    )
    return storage.root / filename


def test_confirmed_downloads_go_after_the_retention_time(world, storage: OutputStorage) -> None:
    _, store, retention = world
    path = _finished_job(store, storage, "confirmed", NOW - 100)
    store.confirm_download("confirmed", NOW - 599)
    assert retention.sweep(now=NOW).files_removed == 0 and path.exists()
    report = retention.sweep(now=NOW + 2)
    assert report.removed == {"confirmed": ["confirmed.wav"]} and not path.exists()
    record = store.get("confirmed")
    assert record is not None and record.output_removed_reason == "confirmed" and record.status is JobStatus.completed


def test_unconfirmed_outputs_go_after_the_ttl(world, storage: OutputStorage) -> None:
    _, store, retention = world
    old = _finished_job(store, storage, "old", NOW - 86_401)
    young = _finished_job(store, storage, "young", NOW - 86_399)
    assert retention.sweep(now=NOW).removed == {"ttl": ["old.wav"]}
    assert not old.exists() and young.exists()


def test_the_disk_budget_removes_confirmed_then_oldest_first(world, storage: OutputStorage) -> None:
    settings, store, retention = world
    size = _finished_job(store, storage, "a-oldest", NOW - 30).stat().st_size
    _finished_job(store, storage, "b-confirmed", NOW - 10)
    _finished_job(store, storage, "c-newest", NOW - 5)
    store.confirm_download("b-confirmed", NOW - 1)  # confirmed, but not yet past its retention time
    settings.output_max_bytes = 2 * size
    assert retention.sweep(now=NOW).removed == {"disk_budget": ["b-confirmed.wav"]}
    settings.output_max_bytes = size
    assert retention.sweep(now=NOW).removed == {"disk_budget": ["a-oldest.wav"]}
    assert storage.total_bytes() == size


def test_orphans_and_stale_partial_writes_are_removed(world, storage: OutputStorage) -> None:
    _, _, retention = world
    orphan = storage.root / "orphan.wav"
    orphan.write_bytes(b"RIFF")
    partial = storage.root / (".partial-" + "0" * 32 + ".wav")
    partial.write_bytes(b"RIF")
    other = storage.root / "README.txt"
    other.write_text("not ours")
    os.utime(orphan, (NOW - 90_000, NOW - 90_000))
    os.utime(partial, (NOW - 4_000, NOW - 4_000))
    report = retention.sweep(now=NOW)
    assert sorted(report.removed["orphan"]) == sorted([orphan.name, partial.name])
    assert not orphan.exists() and not partial.exists() and other.exists()


def test_finished_records_are_forgotten_after_their_ttl(world, storage: OutputStorage) -> None:
    _, store, retention = world
    _finished_job(store, storage, "ancient", NOW - 8 * 86_400)
    report = retention.sweep(now=NOW)
    # The audio goes (TTL) in the same sweep, then the record (job record TTL).
    assert report.removed == {"ttl": ["ancient.wav"]} and report.job_records_deleted == 1
    assert store.get("ancient") is None
