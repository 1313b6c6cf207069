"""Output retention: audio is removed a while after a confirmed download, after
a time to live, or oldest-first when the folder exceeds its disk budget; old
finished job records are forgotten.

``sweep`` is a plain blocking function with an injectable ``now`` (tested with
a fixed clock); ``run`` calls it periodically in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from app.core.config import Settings
from app.core.metrics import Metrics
from app.services.job_store import JobStore
from app.services.output_storage import OutputStorage

logger = logging.getLogger("app.retention")

# Leftovers of writes interrupted by a crash are removed after this long.
_PARTIAL_FILE_GRACE_SECONDS = 3600.0


@dataclass
class RetentionReport:
    removed: dict[str, list[str]] = field(default_factory=dict)  # reason -> file names
    job_records_deleted: int = 0

    def add(self, reason: str, filename: str) -> None:
        self.removed.setdefault(reason, []).append(filename)

    @property
    def files_removed(self) -> int:
        return sum(len(names) for names in self.removed.values())


class OutputRetention:
    def __init__(self, settings: Settings, store: JobStore, storage: OutputStorage, metrics: Metrics) -> None:
        self.settings = settings
        self.store = store
        self.storage = storage
        self.metrics = metrics

    def _remove(self, report: RetentionReport, job_id: str, filename: str, reason: str, now: float) -> None:
        self.storage.remove(filename)
        self.store.mark_output_removed(job_id, reason=reason, at=now)
        self.metrics.outputs_removed.labels(reason).inc()
        report.add(reason, filename)
        logger.info("output.removed", extra={"job_id": job_id, "file": filename, "reason": reason})

    def sweep(self, now: float | None = None) -> RetentionReport:
        now = time.time() if now is None else now
        report = RetentionReport()
        s = self.settings

        for record, reason in self.store.outputs_due(
            now=now, confirmed_keep=s.confirmed_retention_seconds, ttl=s.output_ttl_seconds
        ):
            assert record.output_filename is not None
            self._remove(report, record.id, record.output_filename, reason, now)

        if s.output_max_bytes > 0:
            total = self.storage.total_bytes()
            if total > s.output_max_bytes:
                for record in self.store.outputs_oldest_first():
                    if total <= s.output_max_bytes:
                        break
                    assert record.output_filename is not None
                    try:
                        size = self.storage.path_for(record.output_filename).stat().st_size
                    except FileNotFoundError:
                        size = 0
                    self._remove(report, record.id, record.output_filename, "disk_budget", now)
                    total -= size

        # Files no job refers to (records forgotten, or written by a crashed
        # process): removed once older than the TTL, partial writes sooner.
        referenced = self.store.referenced_outputs()
        for entry in self.storage.files():
            age = now - entry.stat(follow_symlinks=False).st_mtime
            partial = self.storage.is_partial(entry.name)
            if (partial and age > _PARTIAL_FILE_GRACE_SECONDS) or (
                not partial and entry.name not in referenced and age > s.output_ttl_seconds
            ):
                self.storage.remove(entry.name)
                self.metrics.outputs_removed.labels("orphan").inc()
                report.add("orphan", entry.name)

        report.job_records_deleted = self.store.delete_finished_before(now - s.job_record_ttl_seconds)
        return report

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.retention_sweep_seconds)
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:
                logger.exception("retention.sweep_failed")
