"""Polyphase windowed-sinc resampling, one-shot or chunk by chunk.

One algorithm serves both: ``resample`` is a ``Resampler`` fed the whole
signal at once, so a stream and a file made from the same audio hold the
same samples (up to float rounding), and a stream has no clicks at chunk
boundaries: the resampler keeps the input tail its filter still needs
instead of treating each chunk as a signal of its own.

The filter is the one ``torchaudio.functional.resample`` builds for
``resampling_method="sinc_interp_kaiser"`` (tests compare the two), with a
longer, sharper kernel than torchaudio's default: at
``lowpass_filter_width=6, rolloff=0.99`` an 11 kHz tone upsampled from 24 to
48 kHz leaves an image at 13 kHz only 13 dB down; these settings put it
about 100 dB down, and alias rejection when downsampling to 16 kHz is
similar (numbers in docs/audio-formats.md). Cost stays small because the
rates reduce to small ratios (24000 -> 22050 is 160 -> 147).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from app.services.audio.formats import check_sample_rate
from app.services.audio.pcm import as_mono_float

ZERO_CROSSINGS = 24  # lowpass_filter_width: half the kernel length, in zero crossings
ROLLOFF = 0.95  # cutoff as a fraction of the lower Nyquist frequency
KAISER_BETA = 10.0  # ~100 dB side-lobe rejection

# Frames per matrix product: caps the temporary window matrix at a few MB
# whatever the length of the input.
_FRAMES_PER_BLOCK = 4096


@lru_cache(maxsize=32)
def _kernel(from_rate: int, to_rate: int) -> tuple[np.ndarray, int, int, int]:
    """(kernel [taps, new] float64, width, orig, new) for the gcd-reduced ratio orig -> new.

    Output sample ``k * new + i`` is ``xpad[k * orig : k * orig + taps] @ kernel[:, i]``
    where ``xpad`` is the input preceded by ``width`` zeros.
    """
    g = math.gcd(from_rate, to_rate)
    orig, new = from_rate // g, to_rate // g
    base = min(orig, new) * ROLLOFF
    width = math.ceil(ZERO_CROSSINGS * orig / base)
    taps = np.arange(-width, width + orig, dtype=np.float64) / orig
    # Time of each input tap relative to output phase i, in units of the cutoff period.
    t = (taps[None, :] - np.arange(new, dtype=np.float64)[:, None] / new) * base
    t = np.clip(t, -ZERO_CROSSINGS, ZERO_CROSSINGS)
    window = np.i0(KAISER_BETA * np.sqrt(1.0 - (t / ZERO_CROSSINGS) ** 2)) / np.i0(KAISER_BETA)
    kernel = np.sinc(t) * window * (base / orig)
    kernel = np.ascontiguousarray(kernel.T)
    kernel.setflags(write=False)
    return kernel, width, orig, new


class Resampler:
    """Streaming resampler between two of ``SUPPORTED_SAMPLE_RATES``.

    ``process`` returns every output sample the input so far determines;
    ``flush`` ends the signal (zeros after it, as a one-shot resample
    assumes) and returns the rest. In total the output has
    ``ceil(n * to_rate / from_rate)`` samples for ``n`` input samples.
    Not thread-safe: one stream, one caller at a time.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = check_sample_rate(from_rate)
        self.to_rate = check_sample_rate(to_rate)
        self._identity = self.from_rate == self.to_rate
        if not self._identity:
            self._kernel, self._width, self._orig, self._new = _kernel(self.from_rate, self.to_rate)
            # Input not yet consumed, starting at the next frame; the leading
            # zeros stand for the silence before the signal.
            self._buffer = np.zeros(self._width, dtype=np.float32)
        self._samples_in = 0
        self._samples_out = 0
        self._flushed = False

    def process(self, chunk: np.ndarray) -> np.ndarray:
        if self._flushed:
            raise RuntimeError("Resampler.process() after flush()")
        chunk = as_mono_float(chunk)
        self._samples_in += chunk.shape[0]
        if self._identity:
            self._samples_out += chunk.shape[0]
            return chunk
        self._buffer = np.concatenate([self._buffer, chunk]) if chunk.size else self._buffer
        return self._run()

    def flush(self) -> np.ndarray:
        if self._flushed:
            raise RuntimeError("Resampler.flush() called twice")
        self._flushed = True
        if self._identity:
            return np.zeros(0, dtype=np.float32)
        # Enough trailing zeros for the last frame that touches real input.
        tail = np.zeros(self._width + self._orig, dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, tail])
        already = self._samples_out
        out = self._run()
        # The last frame runs past the end of the signal; keep what it covers.
        total = -(-self._samples_in * self._new // self._orig)  # ceil(n * new / orig)
        out = out[: max(0, total - already)]
        self._samples_out = already + out.shape[0]
        return out

    def _run(self) -> np.ndarray:
        taps = self._kernel.shape[0]
        available = self._buffer.shape[0]
        frames = 0 if available < taps else (available - taps) // self._orig + 1
        if frames == 0:
            return np.zeros(0, dtype=np.float32)
        windows = np.lib.stride_tricks.sliding_window_view(self._buffer, taps)[:: self._orig]
        out = np.empty((frames, self._new), dtype=np.float32)
        for start in range(0, frames, _FRAMES_PER_BLOCK):
            stop = min(start + _FRAMES_PER_BLOCK, frames)
            # Sums in float64: BLAS may add in a different order for a different
            # number of rows (chunk sizes), and float64 keeps that below float32
            # resolution, so a stream gets the same float32 samples as a file.
            out[start:stop] = windows[start:stop].astype(np.float64) @ self._kernel
        self._buffer = self._buffer[frames * self._orig :].copy()
        self._samples_out += out.size
        return out.reshape(-1)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """``audio`` (mono float) resampled from ``from_rate`` to ``to_rate``; float32.

    Both rates must be in ``SUPPORTED_SAMPLE_RATES``. Input is clipped to
    [-1, 1] first; the output is not (band-limiting can overshoot slightly),
    the integer encoders clip it.
    """
    resampler = Resampler(from_rate, to_rate)
    head = resampler.process(audio)
    return np.concatenate([head, resampler.flush()])
