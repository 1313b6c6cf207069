"""The conditional flow-matching model: DiT + tokenizer + mel front-end + a batched Euler sampler."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence

import torch
from torch import nn

from f5_tts.config import DiTConfig
from f5_tts.dit import DiT
from f5_tts.mel import MelSpectrogram
from f5_tts.sampling import time_grid
from f5_tts.text import Vocab, tokenize

MAX_DURATION = 4096  # frames (~43.7 s): the longest sequence the published models handle

ProgressFn = Callable[[int, int], None]
CancelledFn = Callable[[], Collection[int]]


def random_seed() -> int:
    return secrets.randbelow(2**63)


def lengths_to_mask(lengths: torch.Tensor, n: int) -> torch.Tensor:
    return torch.arange(n, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


class F5Model(nn.Module):
    def __init__(self, cfg: DiTConfig, vocab: Vocab, mel_spec: MelSpectrogram | None = None):
        super().__init__()
        self.cfg = cfg
        self.vocab = vocab
        self.transformer = DiT(cfg, len(vocab))
        self.mel_spec = mel_spec if mel_spec is not None else MelSpectrogram()

    @property
    def device(self) -> torch.device:
        return self.transformer.proj_out.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.transformer.proj_out.weight.dtype

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        return tokenize(texts, self.vocab)

    def mel(self, wav: torch.Tensor) -> torch.Tensor:
        return self.mel_spec(wav.to(self.device))

    def noise(self, durations: Sequence[int], seeds: Sequence[int], n: int) -> torch.Tensor:
        """Per-item Gaussian noise from its own seed (as torch.manual_seed(seed); torch.randn(...)),
        zero-padded to n frames, so an item's noise does not depend on its batch."""
        out = torch.zeros(len(durations), n, self.cfg.mel_dim, device=self.device, dtype=self.dtype)
        for i, (dur, seed) in enumerate(zip(durations, seeds)):
            gen = torch.Generator(device=self.device).manual_seed(int(seed))
            out[i, :dur] = torch.randn(dur, self.cfg.mel_dim, generator=gen, device=self.device, dtype=self.dtype)
        return out

    @torch.inference_mode()
    def sample(
        self,
        cond: torch.Tensor,
        text: torch.Tensor | Sequence[str],
        duration: int | torch.Tensor,
        *,
        lens: torch.Tensor | None = None,
        steps: int = 32,
        cfg_strength: float | Sequence[float] | torch.Tensor = 2.0,
        sway_sampling_coef: float | None = -1.0,
        seed: int | Sequence[int] | None = None,
        use_epss: bool = True,
        max_duration: int = MAX_DURATION,
        progress: ProgressFn | None = None,
        cancelled: CancelledFn | None = None,
    ) -> torch.Tensor:
        """Generate mel frames [b, n, 100]; frames < lens hold the cond mel, frames >= an item's
        duration (batch padding) and the rows of cancelled items are zero after the reference."""
        device, dtype = self.device, self.dtype
        if isinstance(text, (list, tuple)):
            text = self.tokenize(text)
        text = text.to(device)
        b = cond.shape[0]
        cond = cond.to(device=device, dtype=dtype)
        if lens is None:
            lens = torch.full((b,), cond.shape[1], device=device, dtype=torch.long)
        lens = lens.to(device)
        if isinstance(duration, int):
            duration = torch.full((b,), duration, device=device, dtype=torch.long)
        duration = duration.to(device)
        # Always generate something: at least one frame beyond both the text and the reference.
        duration = torch.maximum(torch.maximum((text != -1).sum(-1), lens) + 1, duration).clamp(max=max_duration)
        durations = duration.tolist()
        n = max(durations)

        seeds = (
            [random_seed() for _ in range(b)] if seed is None else ([seed] * b if isinstance(seed, int) else list(seed))
        )
        if len(seeds) != b:
            raise ValueError(f"got {len(seeds)} seeds for a batch of {b}")
        cfg = torch.as_tensor(cfg_strength, device=device, dtype=dtype).reshape(-1).expand(b).reshape(b, 1, 1)
        guided = bool((cfg.abs() >= 1e-5).any())

        cond = torch.nn.functional.pad(cond[:, :n], (0, 0, 0, max(0, n - cond.shape[1])))
        cond_mask = lengths_to_mask(lens, n).unsqueeze(-1)
        step_cond = torch.where(cond_mask, cond, torch.zeros_like(cond))
        # A mask costs time and an all-valid one changes nothing: skip it when lengths agree.
        mask = None if min(durations) == n else lengths_to_mask(duration, n)
        y = self.noise(durations, seeds, n)

        dit = self.transformer
        text_embed = torch.cat(
            (
                dit.embed_text(text, n, drop_text=False, mask=mask),
                dit.embed_text(text, n, drop_text=True, mask=mask),
            )
        )
        t = time_grid(steps, sway_sampling_coef=sway_sampling_coef, use_epss=use_epss, device=device, dtype=dtype)

        active = list(range(b))  # original indices of the rows still integrating
        result = torch.zeros(b, n, self.cfg.mel_dim, device=device, dtype=dtype)
        for k in range(steps):
            if cancelled is not None:
                dropped = set(cancelled())
                keep = [j for j, i in enumerate(active) if i not in dropped]
                if len(keep) < len(active):
                    if not keep:
                        active = []
                        break
                    idx = torch.tensor(keep, device=device)
                    y, step_cond, cond_mask, cfg = y[idx], step_cond[idx], cond_mask[idx], cfg[idx]
                    text_embed = torch.cat((text_embed[: len(active)][idx], text_embed[len(active) :][idx]))
                    mask = None if mask is None else mask[idx]
                    active = [active[j] for j in keep]
            if guided:
                m2 = None if mask is None else torch.cat((mask, mask))
                v_both = dit.velocity(
                    torch.cat((y, y)), torch.cat((step_cond, torch.zeros_like(step_cond))), text_embed, t[k], m2
                )
                v, v_null = v_both.chunk(2)
                v = v + (v - v_null) * cfg
            else:  # no guidance anywhere in the batch: the null pass would be multiplied by zero
                v = dit.velocity(y, step_cond, text_embed[: len(active)], t[k], mask)
            if mask is not None:
                v = v.masked_fill(~mask.unsqueeze(-1), 0.0)  # keep padding at exactly zero
            y = y + (t[k + 1] - t[k]) * v
            if progress is not None:
                progress(k + 1, steps)
        if active:
            out = torch.where(cond_mask, step_cond, y)
            if mask is not None:
                out = out.masked_fill(~mask.unsqueeze(-1), 0.0)
            result[torch.tensor(active, device=device)] = out
        # Cancelled rows keep their reference so the cond region holds the cond mel for every item.
        return torch.where(lengths_to_mask(lens, n).unsqueeze(-1), cond, result)
