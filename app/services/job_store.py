"""Durable job records in an embedded SQLite database (``DATA_DIR/jobs.sqlite3``).

WAL journal with ``synchronous=NORMAL``: a committed write survives the
process being killed (even ``kill -9``); only an OS crash or power loss can
drop the last few commits. Every statement is a short autocommit transaction
on one shared connection behind a lock, so calls are cheap enough to make
from the event loop.

State changes that end a job are conditional (``WHERE status IN (queued,
processing)``): a job that completed can never be turned into failed or
cancelled by a later, late error.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.models.jobs import JobMode, JobParams, JobRecord, JobStatus

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    mode TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    progress REAL NOT NULL DEFAULT 0,
    chunks_total INTEGER,
    chunks_done INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT,
    output_filename TEXT,
    sample_rate INTEGER,
    duration REAL,
    processing_time REAL,
    download_confirmed_at REAL,
    output_removed_at REAL,
    output_removed_reason TEXT,
    webhook_state TEXT,
    recoveries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_by_finish ON jobs (finished_at);
"""

_UNFINISHED = (JobStatus.queued.value, JobStatus.processing.value)


class JobStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # isolation_level=None: autocommit; each statement commits on its own.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- internals ---
    def _execute(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, tuple(args))

    def _fetchall(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    @staticmethod
    def _record(row: sqlite3.Row) -> JobRecord:
        data = dict(row)
        data["params"] = JobParams.model_validate_json(data["params"])
        return JobRecord.model_validate(data)

    # --- creating and reading ---
    def insert(self, record: JobRecord) -> bool:
        """Store a new job; False when its id already exists (nothing changes)."""
        try:
            self._execute(
                "INSERT INTO jobs (id, status, mode, params, created_at) VALUES (?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.status.value,
                    record.mode.value,
                    record.params.model_dump_json(),
                    record.created_at,
                ),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._fetchall("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return self._record(rows[0]) if rows else None

    def unfinished(self) -> list[JobRecord]:
        rows = self._fetchall("SELECT * FROM jobs WHERE status IN (?, ?) ORDER BY seq", _UNFINISHED)
        return [self._record(row) for row in rows]

    def count_by_status(self) -> dict[JobStatus, int]:
        rows = self._fetchall("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        counts = dict.fromkeys(JobStatus, 0)
        for row in rows:
            counts[JobStatus(row["status"])] = row["n"]
        return counts

    # --- state changes ---
    def requeue_unfinished(self) -> list[JobRecord]:
        """At start-up: every job that was queued or interrupted goes back to the queue."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "UPDATE jobs SET status = ?, progress = 0, chunks_done = 0, recoveries = recoveries + 1 "
                    "WHERE status = ?",
                    (JobStatus.queued.value, JobStatus.processing.value),
                )
                rows = self._db.execute(
                    "SELECT * FROM jobs WHERE status = ? ORDER BY seq", (JobStatus.queued.value,)
                ).fetchall()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [self._record(row) for row in rows]

    def return_to_queue(self, job_ids: Iterable[str]) -> None:
        """At shutdown: interrupted jobs are queued again for the next start."""
        for job_id in job_ids:
            self._execute(
                "UPDATE jobs SET status = ?, progress = 0, chunks_done = 0 WHERE id = ? AND status IN (?, ?)",
                (JobStatus.queued.value, job_id, *_UNFINISHED),
            )

    def mark_processing(self, job_id: str, started_at: float, chunks_total: int) -> bool:
        cursor = self._execute(
            "UPDATE jobs SET status = ?, started_at = COALESCE(started_at, ?), chunks_total = ? "
            "WHERE id = ? AND status IN (?, ?)",
            (JobStatus.processing.value, started_at, chunks_total, job_id, *_UNFINISHED),
        )
        return cursor.rowcount == 1

    def update_progress(self, job_id: str, progress: float, chunks_done: int, chunks_total: int) -> None:
        self._execute(
            "UPDATE jobs SET progress = ?, chunks_done = ?, chunks_total = ? WHERE id = ? AND status IN (?, ?)",
            (min(max(progress, 0.0), 1.0), chunks_done, chunks_total, job_id, *_UNFINISHED),
        )

    def complete(
        self,
        job_id: str,
        *,
        output_filename: str,
        sample_rate: int,
        duration: float,
        processing_time: float,
        finished_at: float,
        webhook_pending: bool,
    ) -> bool:
        cursor = self._execute(
            "UPDATE jobs SET status = ?, progress = 1, chunks_done = COALESCE(chunks_total, chunks_done), "
            "output_filename = ?, sample_rate = ?, duration = ?, processing_time = ?, finished_at = ?, "
            "webhook_state = ? WHERE id = ? AND status IN (?, ?)",
            (
                JobStatus.completed.value,
                output_filename,
                sample_rate,
                duration,
                processing_time,
                finished_at,
                "pending" if webhook_pending else None,
                job_id,
                *_UNFINISHED,
            ),
        )
        return cursor.rowcount == 1

    def fail(self, job_id: str, *, code: str, message: str, finished_at: float, webhook_pending: bool) -> bool:
        return self._finish(job_id, JobStatus.failed, code, message, finished_at, webhook_pending)

    def cancel(self, job_id: str, *, finished_at: float, webhook_pending: bool) -> bool:
        return self._finish(
            job_id, JobStatus.cancelled, "job_cancelled", "cancelled by request", finished_at, webhook_pending
        )

    def _finish(
        self, job_id: str, status: JobStatus, code: str, message: str, finished_at: float, webhook_pending: bool
    ) -> bool:
        cursor = self._execute(
            "UPDATE jobs SET status = ?, error_code = ?, error_message = ?, finished_at = ?, webhook_state = ? "
            "WHERE id = ? AND status IN (?, ?)",
            (status.value, code, message, finished_at, "pending" if webhook_pending else None, job_id, *_UNFINISHED),
        )
        return cursor.rowcount == 1

    def confirm_download(self, job_id: str, at: float) -> JobRecord | None:
        """Record the first confirmation; later ones keep the original time."""
        self._execute(
            "UPDATE jobs SET download_confirmed_at = COALESCE(download_confirmed_at, ?) WHERE id = ?", (at, job_id)
        )
        return self.get(job_id)

    # --- webhooks ---
    def set_webhook_state(self, job_id: str, state: str) -> None:
        self._execute("UPDATE jobs SET webhook_state = ? WHERE id = ?", (state, job_id))

    def pending_webhooks(self) -> list[JobRecord]:
        rows = self._fetchall("SELECT * FROM jobs WHERE webhook_state = 'pending' ORDER BY seq")
        return [self._record(row) for row in rows]

    # --- retention ---
    def outputs_due(self, *, now: float, confirmed_keep: float, ttl: float) -> list[tuple[JobRecord, str]]:
        """Completed jobs whose audio should go: (record, reason), oldest first."""
        rows = self._fetchall(
            "SELECT * FROM jobs WHERE status = ? AND output_filename IS NOT NULL AND output_removed_at IS NULL "
            "AND ((download_confirmed_at IS NOT NULL AND download_confirmed_at <= ?) OR finished_at <= ?) "
            "ORDER BY finished_at",
            (JobStatus.completed.value, now - confirmed_keep, now - ttl),
        )
        due = []
        for row in rows:
            record = self._record(row)
            confirmed = (
                record.download_confirmed_at is not None and record.download_confirmed_at <= now - confirmed_keep
            )
            due.append((record, "confirmed" if confirmed else "ttl"))
        return due

    def outputs_oldest_first(self) -> list[JobRecord]:
        """Completed jobs whose audio is still on disk: confirmed downloads first, then by age."""
        rows = self._fetchall(
            "SELECT * FROM jobs WHERE status = ? AND output_filename IS NOT NULL AND output_removed_at IS NULL "
            "ORDER BY (download_confirmed_at IS NULL), finished_at",
            (JobStatus.completed.value,),
        )
        return [self._record(row) for row in rows]

    def mark_output_removed(self, job_id: str, *, reason: str, at: float) -> None:
        self._execute(
            "UPDATE jobs SET output_removed_at = ?, output_removed_reason = ? WHERE id = ?", (at, reason, job_id)
        )

    def referenced_outputs(self) -> set[str]:
        rows = self._fetchall(
            "SELECT output_filename FROM jobs WHERE output_filename IS NOT NULL AND output_removed_at IS NULL"
        )
        return {row["output_filename"] for row in rows}

    def delete_finished_before(self, cutoff: float) -> int:
        """Forget finished jobs (their audio already removed) that ended before ``cutoff``."""
        cursor = self._execute(
            "DELETE FROM jobs WHERE status IN (?, ?, ?) AND finished_at < ? "
            "AND (output_filename IS NULL OR output_removed_at IS NOT NULL) "
            "AND (webhook_state IS NULL OR webhook_state != 'pending')",
            (JobStatus.completed.value, JobStatus.failed.value, JobStatus.cancelled.value, cutoff),
        )
        return cursor.rowcount


__all__ = ["JobMode", "JobParams", "JobRecord", "JobStatus", "JobStore"]
