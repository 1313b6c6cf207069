"""The 24 kHz log-mel spectrogram the model and Vocos were trained on ("vocos" type)."""

from __future__ import annotations

import torch
import torchaudio.functional as AF
from torch import nn

SAMPLE_RATE = 24000
N_FFT = 1024
HOP_LENGTH = 256
WIN_LENGTH = 1024
N_MELS = 100


class MelSpectrogram(nn.Module):
    """Magnitude STFT (centred, reflect padding, periodic Hann) -> HTK mel, unnormalised -> log.

    Buffers are not persistent so that checkpoints, which carry no mel weights, load strictly.
    A clip of S samples gives S // 256 + 1 frames.
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(WIN_LENGTH, periodic=True), persistent=False)
        fb = AF.melscale_fbanks(
            n_freqs=N_FFT // 2 + 1,
            f_min=0.0,
            f_max=SAMPLE_RATE / 2,
            n_mels=N_MELS,
            sample_rate=SAMPLE_RATE,
            norm=None,
            mel_scale="htk",
        )
        self.register_buffer("fb", fb, persistent=False)  # [freqs, mels]

    @torch.no_grad()
    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [b, samples] or [samples] -> log-mel [b, frames, 100] (float32)."""
        if wav.ndim == 1:
            wav = wav.unsqueeze(0)
        wav = wav.float()
        spec = torch.stft(
            wav,
            N_FFT,
            hop_length=HOP_LENGTH,
            win_length=WIN_LENGTH,
            window=self.window.to(wav.device, torch.float32),
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        ).abs()  # [b, freqs, frames]
        mel = torch.matmul(spec.transpose(1, 2), self.fb.to(wav.device, torch.float32))  # [b, frames, mels]
        return torch.log(torch.clamp(mel, min=1e-5))
