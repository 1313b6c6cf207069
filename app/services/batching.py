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
- A streamed job still waiting for its first audio is ``urgent``: it wins
  ties on ``served``, and a batch it leads holds only the first chunks of
  urgent jobs, none longer than ``URGENT_FRAMES_RATIO`` times its own. Items
  of a batch are padded to the longest and, where the device is saturated
  (a CPU, a full GPU), cost time in proportion to their number: the first
  audio of new streams would otherwise wait for whole chunks of other jobs.
  The streams' later chunks share batches with everything else.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

URGENT_FRAMES_RATIO = 2.0


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
    urgent: bool = False  # a stream waiting for its first audio


def form_batch(jobs: Sequence[PendingJob], max_items: int, max_frames: int) -> list[tuple[str, int]]:
    """``[(job_id, chunk_index), ...]`` for the next forward pass; empty when nothing waits."""
    eligible = sorted((job for job in jobs if job.chunks), key=lambda job: (job.served, not job.urgent, job.arrival))
    if not eligible:
        return []
    leader = eligible[0]
    key = leader.chunks[0].batch_key
    longest = leader.chunks[0].frames * URGENT_FRAMES_RATIO if leader.urgent else None
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
            if longest is not None and (not job.urgent or chunk.frames > longest):
                continue
            if batch and frames + chunk.frames > max_frames:
                continue
            batch.append((job.job_id, chunk.index))
            frames += chunk.frames
            taken[job.job_id] = position + 1
            added = True
    return batch
