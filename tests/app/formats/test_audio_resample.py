"""The polyphase resampler: correct filter, exact lengths, chunking invariance, quality."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchaudio.functional as taf

from app.services.audio import SUPPORTED_SAMPLE_RATES, Resampler, resample
from app.services.audio.resample import KAISER_BETA, ROLLOFF, ZERO_CROSSINGS

from .conftest import speech_like

OTHER_RATES = [r for r in SUPPORTED_SAMPLE_RATES if r != 24000]


def _chunked(resampler: Resampler, audio: np.ndarray, sizes: list[int]) -> np.ndarray:
    out, start = [], 0
    for size in sizes:
        out.append(resampler.process(audio[start : start + size]))
        start += size
    out.append(resampler.process(audio[start:]))
    out.append(resampler.flush())
    return np.concatenate(out)


@pytest.mark.parametrize("to_rate", OTHER_RATES)
def test_matches_torchaudio_with_the_same_filter(voice: np.ndarray, to_rate: int) -> None:
    ours = resample(voice, 24000, to_rate)
    reference = taf.resample(
        torch.from_numpy(voice).double(),
        24000,
        to_rate,
        lowpass_filter_width=ZERO_CROSSINGS,
        rolloff=ROLLOFF,
        resampling_method="sinc_interp_kaiser",
        beta=KAISER_BETA,
    ).numpy()
    assert ours.dtype == np.float32
    assert ours.shape == reference.shape
    # float32 output of a float64 filter: agreement to a few float32 ulps of full scale.
    assert np.abs(ours - reference).max() < 1e-6


@pytest.mark.parametrize("from_rate", SUPPORTED_SAMPLE_RATES)
@pytest.mark.parametrize("to_rate", SUPPORTED_SAMPLE_RATES)
@pytest.mark.parametrize("length", [0, 1, 2, 147, 160, 1001])
def test_output_length_is_ceil_of_the_ratio(from_rate: int, to_rate: int, length: int) -> None:
    audio = np.full(length, 0.1, dtype=np.float32)
    assert resample(audio, from_rate, to_rate).shape[0] == math.ceil(length * to_rate / from_rate)


def test_same_rate_is_the_identity(voice: np.ndarray) -> None:
    assert np.array_equal(resample(voice, 24000, 24000), voice)


@pytest.mark.parametrize("to_rate", OTHER_RATES)
def test_chunk_boundaries_leave_no_trace(voice: np.ndarray, to_rate: int) -> None:
    """Chunked output equals one-shot output: the resampler carries filter history
    across chunks, so a boundary cannot click. Sizes include empty, one-sample and
    sub-period chunks (160 input samples is one 24000 -> 22050 period)."""
    sizes = [0, 1, 7, 159, 1, 0, 2400, 3, 5000, 333]
    chunked = _chunked(Resampler(24000, to_rate), voice, sizes)
    one_shot = resample(voice, 24000, to_rate)
    assert chunked.shape == one_shot.shape
    # Sums run in float64, so chunking changes nothing at float32 resolution.
    assert np.abs(chunked - one_shot).max() <= 1e-7


def test_a_stream_cut_into_single_samples_is_still_the_same(voice: np.ndarray) -> None:
    clip = voice[:600]
    chunked = _chunked(Resampler(24000, 44100), clip, [1] * 600)
    assert np.abs(chunked - resample(clip, 24000, 44100)).max() <= 1e-7


def _tone_level_db(signal: np.ndarray, rate: int, freq: float, amplitude: float) -> float:
    window = np.hanning(signal.shape[0])
    spectrum = np.abs(np.fft.rfft(signal * window)) / (window.sum() / 2)
    bins = np.fft.rfftfreq(signal.shape[0], 1 / rate)
    i = int(np.argmin(np.abs(bins - freq)))
    return 20 * np.log10(max(spectrum[max(i - 3, 0) : i + 4].max(), 1e-15) / amplitude)


@pytest.mark.parametrize(
    ("tone", "to_rate", "probe", "at_most_db"),
    [
        (10000, 16000, 6000, -90),  # 10 kHz cannot exist at 16 kHz: its alias at 6 kHz must be gone
        (11000, 48000, 13000, -90),  # upsampling image of an 11 kHz tone
        (11000, 44100, 13000, -90),
    ],
)
def test_aliases_and_images_are_suppressed(tone: int, to_rate: int, probe: int, at_most_db: float) -> None:
    t = np.arange(24000) / 24000
    out = resample((0.5 * np.sin(2 * np.pi * tone * t)).astype(np.float32), 24000, to_rate)
    assert _tone_level_db(out[2000:-2000], to_rate, probe, 0.5) < at_most_db


@pytest.mark.parametrize("to_rate", OTHER_RATES)
def test_passband_is_flat_to_80_percent_of_the_lower_nyquist(to_rate: int) -> None:
    t = np.arange(24000) / 24000
    edge = 0.8 * min(12000, to_rate / 2)  # 6.4 kHz for 16 kHz output, 9.6 kHz otherwise
    for freq in (300.0, 3000.0, edge):
        out = resample((0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), 24000, to_rate)
        steady = out[2000:-2000].astype(np.float64)
        gain_db = 20 * np.log10(np.sqrt(2 * np.mean(steady**2)) / 0.5)
        assert abs(gain_db) < 0.01, (freq, gain_db)


def test_resampled_speech_keeps_its_content() -> None:
    # Down to 16 kHz and back: the harmonics (all below 6.3 kHz) survive, only the
    # part of the noise floor above 7.6 kHz is lost; nothing is shifted in time.
    audio = speech_like(0.5, seed=4)
    there_and_back = resample(resample(audio, 24000, 16000), 16000, 24000)
    assert there_and_back.shape == audio.shape
    error = there_and_back - audio
    assert 10 * np.log10(np.sum(audio**2) / np.sum(error**2)) > 30


def test_process_after_flush_is_an_error() -> None:
    resampler = Resampler(24000, 48000)
    resampler.flush()
    with pytest.raises(RuntimeError):
        resampler.process(np.zeros(10, dtype=np.float32))
    with pytest.raises(RuntimeError):
        resampler.flush()
