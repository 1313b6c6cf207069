"""Which waiting chunks go into the next forward pass.

Pure functions on plain data, so the policy is testable without a model.

Policy:
- Only chunks with the same ``batch_key`` share a batch (same sampling
  settings); the key is that of the most deserving job's next chunk.
- A batch holds at most ``max_items`` chunks and ``max_frames`` mel frames in
  total (reference included). A chunk bigger than the frame budget still runs,
  alone, so nothing starves.
- Fairness: jobs are served least-served first (chunks already dispatched),
  ties by arrival, one chunk per job per round, rounds repeating until the
  batch is full. A new short job therefore jumps ahead of the remaining chunks
  of a 10-minute text, and a lone long job still fills whole batches.
- A job's chunks are dispatched in order.
- A job may cap how many of its chunks one batch takes (``max_take``):
  streamed jobs do, so their first (short) chunk is not held back by the
  chunks after it and audio keeps arriving while the rest is synthesized.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PendingChunk:
    index: int  # position of the chunk in its job
    frames: int
    batch_key: Hashable


@dataclass(frozen=True)
class PendingJob:
    job_id: str
    arrival: int  # submission order
    served: int  # chunks of this job already dispatched
    chunks: Sequence[PendingChunk]  # not yet dispatched, in order
    max_take: int | None = None  # at most this many of its chunks in one batch; None = no cap


def form_batch(jobs: Sequence[PendingJob], max_items: int, max_frames: int) -> list[tuple[str, int]]:
    """``[(job_id, chunk_index), ...]`` for the next forward pass; empty when nothing waits."""
    eligible = sorted((job for job in jobs if job.chunks), key=lambda job: (job.served, job.arrival))
    if not eligible:
        return []
    key = eligible[0].chunks[0].batch_key
    taken = dict.fromkeys((job.job_id for job in eligible), 0)
    batch: list[tuple[str, int]] = []
    frames = 0
    added = True
    while added and len(batch) < max_items:
        added = False
        for job in eligible:
            if len(batch) >= max_items:
                break
            position = taken[job.job_id]
            if position >= len(job.chunks) or (job.max_take is not None and position >= job.max_take):
                continue
            chunk = job.chunks[position]
            if chunk.batch_key != key:
                continue
            if batch and frames + chunk.frames > max_frames:
                continue
            batch.append((job.job_id, chunk.index))
            frames += chunk.frames
            taken[job.job_id] = position + 1
            added = True
    return batch
