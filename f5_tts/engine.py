"""F5TTS: the high-level engine, from reference clip and text to a waveform, batched across requests."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from f5_tts.audio import PreparedAudio, cross_fade_join, prepare_reference_audio
from f5_tts.chunking import chunk_text, estimate_duration_frames, max_chunk_bytes, utf8_len
from f5_tts.config import DiTConfig, resolve_arch
from f5_tts.errors import InvalidTextError
from f5_tts.loading import build_demo_model, load_model
from f5_tts.mel import HOP_LENGTH, SAMPLE_RATE, MelSpectrogram
from f5_tts.model import MAX_DURATION, F5Model, random_seed
from f5_tts.text import check_text, normalize_for_model, prepare_reference_text
from f5_tts.vocoder import DEFAULT_VOCODER, Vocoder, demo_vocoder, load_vocoder

AudioSource = str | os.PathLike | np.ndarray | tuple[np.ndarray, int]


@dataclass(frozen=True, eq=False)
class Reference:
    """A voice, preprocessed once: reuse it for every request in that voice."""

    mel: torch.Tensor  # [frames, 100], float32 on the CPU
    text: str  # the transcript exactly as it is prepended to every chunk
    text_bytes: int
    frames: int
    seconds: float
    rms_gain: float  # the output is multiplied by this to restore the reference's loudness


@dataclass(frozen=True, eq=False)
class ChunkJob:
    """One piece of one request: the unit that batches are made of."""

    reference: Reference
    text: str
    duration: int  # frames, reference included
    seed: int
    nfe_step: int = 32
    cfg_strength: float = 2.0
    sway_sampling_coef: float | None = -1.0

    @property
    def frames(self) -> int:
        return self.duration

    @property
    def batch_key(self) -> tuple:
        # Items in one batch share the time grid; everything else may differ per item.
        return (self.nfe_step, self.sway_sampling_coef)


@dataclass
class SynthesisRequest:
    ref_audio: AudioSource
    ref_text: str
    gen_text: str
    speed: float = 1.0
    nfe_step: int = 32
    cfg_strength: float = 2.0
    sway_sampling_coef: float | None = -1.0
    cross_fade_duration: float = 0.15
    seed: int | None = None
    fix_duration: float | None = None


@dataclass
class SynthesisResult:
    audio: np.ndarray | None
    sample_rate: int = SAMPLE_RATE
    error: Exception | None = None
    seeds: list[int] = field(default_factory=list)


class F5TTS:
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        ckpt: str | os.PathLike | None = None,
        vocab: str | os.PathLike | None = None,
        vocoder: str | os.PathLike | Vocoder = DEFAULT_VOCODER,
        arch: str | dict[str, Any] | DiTConfig = "F5TTS_Base",
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        *,
        model: F5Model | None = None,
    ):
        self.arch_name, _ = resolve_arch(arch)
        if model is None:
            if ckpt is None or vocab is None:
                raise ValueError("F5TTS needs ckpt and vocab (or use F5TTS.demo())")
            model = load_model(ckpt, vocab, arch=arch, device=device, dtype=dtype)
        self.model = model
        self.vocoder = vocoder if isinstance(vocoder, Vocoder) else load_vocoder(vocoder, device=model.device)
        self.lowercase = not model.vocab.case_sensitive
        # References are prepared on the CPU so that callers may do it on any thread while another
        # thread owns the GPU; the mel of a <= 12 s clip costs milliseconds.
        self._reference_mel = MelSpectrogram()

    @classmethod
    def demo(cls, seed: int = 0, device: str | torch.device | None = "cpu") -> F5TTS:
        """Tiny random model and vocoder, built in memory: deterministic, fast, no files needed."""
        model = build_demo_model(seed, device=device)
        return cls(vocoder=demo_vocoder(seed, device=model.device), arch="demo", model=model)

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.dtype

    # ------------------------------------------------------------------------------------ planning

    def normalize_text(self, text: str) -> str:
        return normalize_for_model(text, lowercase=self.lowercase)

    def prepare_reference(
        self, audio: AudioSource | PreparedAudio, ref_text: str, *, sample_rate: int | None = None
    ) -> Reference:
        if isinstance(audio, tuple):
            audio, sample_rate = audio
        prepared = audio if isinstance(audio, PreparedAudio) else prepare_reference_audio(audio, sample_rate)
        text = self.normalize_text(ref_text)
        check_text(text, self.model.vocab, "reference text")
        text = prepare_reference_text(text)
        mel = self._reference_mel(torch.from_numpy(prepared.wav).unsqueeze(0))[0]
        return Reference(
            mel=mel,
            text=text,
            text_bytes=utf8_len(text),
            frames=mel.shape[0],
            seconds=prepared.seconds,
            rms_gain=prepared.rms_gain,
        )

    def plan(
        self,
        reference: Reference,
        gen_text: str,
        *,
        speed: float = 1.0,
        seed: int | None = None,
        nfe_step: int = 32,
        cfg_strength: float = 2.0,
        sway_sampling_coef: float | None = -1.0,
        fix_duration: float | None = None,
    ) -> list[ChunkJob]:
        """Split `gen_text` into chunks the reference's byte budget allows, each with its duration."""
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if nfe_step < 1:
            raise ValueError(f"nfe_step must be >= 1, got {nfe_step}")
        text = self.normalize_text(gen_text)
        check_text(text, self.model.vocab)
        budget = max_chunk_bytes(reference.text_bytes, reference.seconds, speed)
        pieces = chunk_text(text, budget)
        if not pieces:
            raise InvalidTextError("text is empty")
        base_seed = random_seed() if seed is None else int(seed)
        jobs = []
        for i, piece in enumerate(pieces):
            if fix_duration is not None and len(pieces) == 1:
                duration = int(fix_duration * SAMPLE_RATE / HOP_LENGTH)
            else:
                duration = estimate_duration_frames(reference.frames, reference.text_bytes, utf8_len(piece), speed)
            jobs.append(
                ChunkJob(
                    reference=reference,
                    text=piece,
                    duration=max(reference.frames + 1, min(duration, MAX_DURATION)),
                    seed=(base_seed + i) % 2**63,
                    nfe_step=nfe_step,
                    cfg_strength=cfg_strength,
                    sway_sampling_coef=sway_sampling_coef,
                )
            )
        return jobs

    # ---------------------------------------------------------------------------------- synthesis

    def synthesize(
        self,
        chunks: Sequence[ChunkJob],
        *,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], Collection[int]] | None = None,
    ) -> list[np.ndarray | None]:
        """One batched sampling + vocoder pass; a waveform per chunk, None for cancelled ones."""
        if not chunks:
            return []
        keys = {c.batch_key for c in chunks}
        if len(keys) > 1:
            raise ValueError(f"chunks of one batch must share batch_key, got {sorted(keys, key=str)}")
        first = chunks[0]
        ref_frames = [c.reference.frames for c in chunks]
        cond = torch.zeros(len(chunks), max(ref_frames), first.reference.mel.shape[1])
        for i, c in enumerate(chunks):
            cond[i, : c.reference.frames] = c.reference.mel
        dropped: set[int] = set()

        def poll_cancelled() -> Collection[int]:
            if cancelled is not None:
                dropped.update(cancelled())
            return dropped

        text = self.model.tokenize([c.reference.text + c.text for c in chunks])
        # The sampler lengthens an item whose text outgrows its duration; cut at the same length.
        durations = [
            min(MAX_DURATION, max(c.duration, int((text[i] != -1).sum()) + 1, c.reference.frames + 1))
            for i, c in enumerate(chunks)
        ]
        mel = self.model.sample(
            cond,
            text,
            torch.tensor(durations),
            lens=torch.tensor(ref_frames),
            steps=first.nfe_step,
            cfg_strength=[c.cfg_strength for c in chunks],
            sway_sampling_coef=first.sway_sampling_coef,
            seed=[c.seed for c in chunks],
            progress=progress,
            cancelled=poll_cancelled if cancelled is not None else None,
        )
        poll_cancelled()
        live = [i for i in range(len(chunks)) if i not in dropped]
        waves = self.vocoder.decode([mel[i, chunks[i].reference.frames : durations[i]].float() for i in live])
        out: list[np.ndarray | None] = [None] * len(chunks)
        for i, wave in zip(live, waves):
            gain = chunks[i].reference.rms_gain
            out[i] = (wave * gain if gain != 1.0 else wave).astype(np.float32, copy=False)
        return out

    def join(self, waves: Sequence[np.ndarray], cross_fade_duration: float = 0.15) -> np.ndarray:
        return cross_fade_join(waves, SAMPLE_RATE, cross_fade_duration)

    def infer(
        self,
        ref_audio: AudioSource,
        ref_text: str,
        gen_text: str,
        *,
        speed: float = 1.0,
        nfe_step: int = 32,
        cfg_strength: float = 2.0,
        sway_sampling_coef: float | None = -1.0,
        cross_fade_duration: float = 0.15,
        seed: int | None = None,
        fix_duration: float | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[np.ndarray, int]:
        """Synthesize one request; `progress(done, total)` counts ODE steps summed over its chunks."""
        request = SynthesisRequest(
            ref_audio,
            ref_text,
            gen_text,
            speed,
            nfe_step,
            cfg_strength,
            sway_sampling_coef,
            cross_fade_duration,
            seed,
            fix_duration,
        )
        result = self.infer_batch([request], progress=progress)[0]
        if result.error is not None:
            raise result.error
        return result.audio, SAMPLE_RATE

    def infer_batch(
        self,
        requests: Sequence[SynthesisRequest],
        *,
        max_batch_items: int = 16,
        max_batch_frames: int = 32768,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[SynthesisResult]:
        """Many requests at once: the chunks of all of them share forward passes. A request that
        fails (bad reference, bad text) gets its error in its result; the others are unaffected."""
        results = [SynthesisResult(audio=None) for _ in requests]
        plans: dict[int, list[ChunkJob]] = {}
        for r, req in enumerate(requests):
            try:
                ref = self.prepare_reference(req.ref_audio, req.ref_text)
                plans[r] = self.plan(
                    ref,
                    req.gen_text,
                    speed=req.speed,
                    seed=req.seed,
                    nfe_step=req.nfe_step,
                    cfg_strength=req.cfg_strength,
                    sway_sampling_coef=req.sway_sampling_coef,
                    fix_duration=req.fix_duration,
                )
                results[r].seeds = [c.seed for c in plans[r]]
            except (ValueError, OSError) as exc:  # engine input errors are ValueErrors
                results[r].error = exc

        pending = [(r, i, c) for r, chunks in plans.items() for i, c in enumerate(chunks)]
        total_steps = sum(c.nfe_step for _, _, c in pending)
        done_steps = 0
        waves: dict[tuple[int, int], np.ndarray] = {}
        for batch in _batches(pending, max_batch_items, max_batch_frames):
            base = done_steps

            # Progress counts chunk-steps: a batch step advances every chunk in it.
            def on_step(step: int, _total: int, base: int = base, width: int = len(batch)) -> None:
                if progress is not None:
                    progress(base + step * width, total_steps)

            try:
                out = self.synthesize([c for _, _, c in batch], progress=on_step)
            except (ValueError, RuntimeError) as exc:
                for r, _, _ in batch:
                    results[r].error = exc
                out = [None] * len(batch)
            done_steps += batch[0][2].nfe_step * len(batch)
            for (r, i, _), wave in zip(batch, out):
                if wave is not None:
                    waves[(r, i)] = wave

        for r, chunks in plans.items():
            if results[r].error is None:
                results[r].audio = self.join(
                    [waves[(r, i)] for i in range(len(chunks))], requests[r].cross_fade_duration
                )
        return results

    def release_memory(self) -> None:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _batches(pending, max_items: int, max_frames: int):
    """Group chunks with equal batch keys, longest first (less padding), within the budgets."""
    by_key: dict[tuple, list] = {}
    for item in pending:
        by_key.setdefault(item[2].batch_key, []).append(item)
    for items in by_key.values():
        items.sort(key=lambda it: -it[2].frames)
        batch, frames = [], 0
        for item in items:
            if batch and (len(batch) >= max_items or frames + item[2].frames > max_frames):
                yield batch
                batch, frames = [], 0
            batch.append(item)
            frames += item[2].frames
        if batch:
            yield batch
