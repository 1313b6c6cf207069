"""Tests for f5_tts.audio and f5_tts.errors: decoding, reference preparation, joining."""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from f5_tts import errors
from f5_tts.audio import (
    HOP_LENGTH,
    SAMPLE_RATE,
    TARGET_RMS,
    PreparedAudio,
    cross_fade_join,
    load_audio,
    prepare_reference_audio,
    resample,
)
from f5_tts.errors import (
    CheckpointError,
    F5TTSError,
    InvalidReferenceAudioError,
    InvalidTextError,
    NotAudioError,
    ReferenceSilentError,
    ReferenceTooLongError,
    ReferenceTooShortError,
    VocabSizeError,
)

SR = SAMPLE_RATE
PAD = int(0.05 * SR)  # the 50 ms of silence every prepared clip ends with


def tone(seconds: float, amp: float = 0.5, freq: float = 200.0, sr: int = SR) -> np.ndarray:
    # 200 Hz puts exactly two periods in each 10 ms analysis frame, so every
    # frame of a tone has the same level.
    t = np.arange(round(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(round(seconds * sr), dtype=np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def dominant_freq(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


# --- errors -------------------------------------------------------------------


def test_error_hierarchy() -> None:
    assert issubclass(CheckpointError, F5TTSError)
    assert issubclass(VocabSizeError, CheckpointError)
    assert issubclass(InvalidTextError, F5TTSError)
    assert issubclass(InvalidTextError, ValueError)
    assert issubclass(InvalidReferenceAudioError, F5TTSError)
    assert issubclass(InvalidReferenceAudioError, ValueError)
    for cls in (NotAudioError, ReferenceTooShortError, ReferenceSilentError, ReferenceTooLongError):
        assert issubclass(cls, InvalidReferenceAudioError)
    assert not issubclass(CheckpointError, ValueError)


def test_every_error_has_a_one_line_docstring() -> None:
    names = [
        "F5TTSError",
        "CheckpointError",
        "VocabSizeError",
        "InvalidTextError",
        "InvalidReferenceAudioError",
        "NotAudioError",
        "ReferenceTooShortError",
        "ReferenceSilentError",
        "ReferenceTooLongError",
    ]
    assert sorted(names) == sorted(errors.__all__)
    for name in names:
        doc = getattr(errors, name).__doc__
        assert doc and doc.strip() and "\n" not in doc.strip(), name


def test_errors_carry_their_message() -> None:
    with pytest.raises(ValueError, match="too short"):
        raise ReferenceTooShortError("too short")


# --- load_audio: files ----------------------------------------------------------


def test_load_wav_pcm16(tmp_path: Path) -> None:
    x = tone(0.5, amp=0.25)
    path = tmp_path / "voice.wav"
    sf.write(path, x, 16000, subtype="PCM_16")
    wav, rate = load_audio(path)
    assert rate == 16000
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert wav.shape == x.shape
    np.testing.assert_allclose(wav, x, atol=1.0 / 32768)


def test_load_accepts_str_path(tmp_path: Path) -> None:
    path = tmp_path / "voice.wav"
    sf.write(path, tone(0.1), SR)
    wav, rate = load_audio(str(path))
    assert rate == SR and wav.shape == (round(0.1 * SR),)


def test_load_stereo_file_averages_channels(tmp_path: Path) -> None:
    left = tone(0.2, amp=0.4)
    right = np.full_like(left, 0.1)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 22050, subtype="FLOAT")
    wav, rate = load_audio(path)
    assert rate == 22050
    np.testing.assert_allclose(wav, (left + right) / 2, atol=1e-6)


@pytest.mark.parametrize("fmt,ext", [("FLAC", "flac"), ("OGG", "ogg"), ("MP3", "mp3")])
def test_load_compressed_formats(tmp_path: Path, fmt: str, ext: str) -> None:
    x = tone(1.0, amp=0.3, freq=440.0)
    path = tmp_path / f"voice.{ext}"
    sf.write(path, x, SR, format=fmt)
    wav, rate = load_audio(path)
    assert rate == SR
    assert abs(wav.shape[0] - x.shape[0]) <= 0.1 * SR
    assert dominant_freq(wav, rate) == pytest.approx(440.0, abs=2.0)
    assert rms(wav) == pytest.approx(rms(x), rel=0.1)


def test_load_encoded_bytes_and_file_objects(tmp_path: Path) -> None:
    x = tone(0.3)
    buf = io.BytesIO()
    sf.write(buf, x, 16000, format="WAV", subtype="FLOAT")
    data = buf.getvalue()

    wav, rate = load_audio(data)
    assert rate == 16000
    np.testing.assert_allclose(wav, x, atol=1e-7)

    wav2, _ = load_audio(io.BytesIO(data))
    np.testing.assert_array_equal(wav, wav2)

    path = tmp_path / "v.wav"
    path.write_bytes(data)
    with path.open("rb") as fh:
        wav3, _ = load_audio(fh)
    np.testing.assert_array_equal(wav, wav3)


def test_text_file_is_not_audio_and_error_names_only_the_file(tmp_path: Path) -> None:
    path = tmp_path / "secret_dir" / "notes.wav"
    path.parent.mkdir()
    path.write_text("this is not a wave file\n" * 10)
    with pytest.raises(NotAudioError) as exc:
        load_audio(path)
    assert "notes.wav" in str(exc.value)
    assert "secret_dir" not in str(exc.value)


def test_empty_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(NotAudioError, match=r"empty\.mp3"):
        load_audio(path)


def test_garbage_bytes_are_not_audio() -> None:
    with pytest.raises(NotAudioError, match="could not be read"):
        load_audio(bytes(range(256)) * 8)


def test_truncated_flac_is_not_audio(tmp_path: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, tone(1.0), SR, format="FLAC")
    with pytest.raises(NotAudioError):
        load_audio(buf.getvalue()[:40])


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(NotAudioError, match=r"nope\.wav.*not found"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(NotAudioError, match="not a file"):
        load_audio(tmp_path)


def test_file_with_nan_or_inf_is_rejected(tmp_path: Path) -> None:
    for bad in (np.nan, np.inf):
        x = tone(0.1)
        x[10] = bad
        path = tmp_path / "bad.wav"
        sf.write(path, x, SR, subtype="FLOAT")
        with pytest.raises(NotAudioError, match="NaN or infinity"):
            load_audio(path)


def test_long_file_refused_from_header_without_decoding(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(8000 * 20, dtype=np.int16), 8000, subtype="PCM_16")

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded a file that the header already rules out")

    monkeypatch.setattr(sf.SoundFile, "read", no_decoding)
    with pytest.raises(ReferenceTooLongError, match=r"20\.0 s.*limit is 10 s"):
        load_audio(path, max_seconds=10)


def test_file_sample_rate_is_authoritative(tmp_path: Path) -> None:
    path = tmp_path / "v.wav"
    sf.write(path, tone(0.1, sr=16000), 16000)
    _, rate = load_audio(path, sample_rate=48000)
    assert rate == 16000


# --- load_audio: arrays -----------------------------------------------------------


def test_array_requires_sample_rate() -> None:
    with pytest.raises(ValueError, match="sample_rate is required"):
        load_audio(np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match="sample_rate is required"):
        load_audio(torch.zeros(100))


@pytest.mark.parametrize("bad", [0, -16000, 16000.5, "16000", True, 10**7])
def test_array_rejects_bad_sample_rates(bad) -> None:
    with pytest.raises(ValueError):
        load_audio(np.zeros(100, dtype=np.float32), bad)


def test_array_layouts_are_mixed_to_mono() -> None:
    a = tone(0.05, amp=0.4)
    b = np.linspace(-0.2, 0.2, a.shape[0], dtype=np.float32)
    expected = (a + b) / 2
    for arr in (
        np.stack([a, b], axis=1),  # [samples, channels], as soundfile returns
        np.stack([a, b], axis=0),  # [channels, samples], as torchaudio returns
        torch.from_numpy(np.stack([a, b])),
        torch.from_numpy(np.stack([a, b]))[None],  # a batch of one
    ):
        wav, rate = load_audio(arr, SR)
        assert rate == SR
        assert wav.dtype == np.float32 and wav.shape == a.shape
        np.testing.assert_allclose(wav, expected, atol=1e-6)


def test_single_channel_layouts() -> None:
    a = tone(0.05)
    for arr in (a, a[:, None], a[None, :], torch.from_numpy(a)[None]):
        wav, _ = load_audio(arr, SR)
        np.testing.assert_array_equal(wav, a)


def test_array_up_to_eight_channels() -> None:
    x = np.arange(8 * 100, dtype=np.float32).reshape(8, 100) / 1000
    wav, _ = load_audio(x, SR)
    np.testing.assert_allclose(wav, x.mean(axis=0), rtol=1e-6)
    with pytest.raises(NotAudioError, match="channels"):
        load_audio(np.zeros((100, 100), dtype=np.float32), SR)
    with pytest.raises(NotAudioError, match="shape"):
        load_audio(np.zeros((2, 3, 100), dtype=np.float32), SR)
    with pytest.raises(NotAudioError, match="shape"):
        load_audio(np.float32(0.5), SR)


def test_integer_pcm_arrays_are_scaled() -> None:
    pcm16 = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    wav, _ = load_audio(pcm16, SR)
    np.testing.assert_allclose(wav, [0.0, 0.5, -1.0, 32767 / 32768])
    u8 = np.array([128, 0, 192], dtype=np.uint8)
    wav, _ = load_audio(u8, SR)
    np.testing.assert_allclose(wav, [0.0, -1.0, 0.5])
    wav, _ = load_audio(torch.tensor([0, 1 << 30], dtype=torch.int32), SR)
    np.testing.assert_allclose(wav, [0.0, 0.5])


def test_half_precision_and_grad_tensors() -> None:
    x = torch.linspace(-0.5, 0.5, 64)
    for t in (x.half(), x.bfloat16(), x.clone().requires_grad_(True), x.double()):
        wav, _ = load_audio(t, SR)
        assert wav.dtype == np.float32
        np.testing.assert_allclose(wav, x.numpy(), atol=4e-3)


def test_non_real_arrays_are_not_audio() -> None:
    with pytest.raises(NotAudioError):
        load_audio(np.zeros(10, dtype=np.complex64), SR)
    with pytest.raises(NotAudioError):
        load_audio(torch.zeros(10, dtype=torch.bool), SR)
    with pytest.raises(NotAudioError):
        load_audio(np.array(["a", "b"]), SR)


def test_nan_or_inf_array_is_not_audio() -> None:
    for bad in (np.nan, np.inf, -np.inf):
        x = tone(0.01)
        x[3] = bad
        with pytest.raises(NotAudioError, match="NaN or infinity"):
            load_audio(x, SR)


def test_loaded_array_is_a_copy() -> None:
    x = tone(0.01)
    wav, _ = load_audio(x, SR)
    wav[:] = 0
    assert np.abs(x).max() > 0.1


def test_unsupported_source_type() -> None:
    with pytest.raises(TypeError):
        load_audio([0.0, 0.1, 0.2], SR)  # type: ignore[arg-type]


# --- resample -----------------------------------------------------------------------


def test_resample_same_rate_is_a_no_op() -> None:
    x = tone(0.1)
    np.testing.assert_array_equal(resample(x, SR, SR), x)


@pytest.mark.parametrize("orig", [48000, 44100, 16000, 22050, 8000])
def test_resample_common_rates_keep_pitch_and_level(orig: int) -> None:
    x = tone(1.0, amp=0.5, freq=300.0, sr=orig)
    y = resample(x, orig, SR)
    assert y.dtype == np.float32
    assert y.shape == (int(np.ceil(x.shape[0] * SR / orig)),)
    assert dominant_freq(y, SR) == pytest.approx(300.0, abs=1.5)
    mid = y[SR // 4 : 3 * SR // 4]
    assert rms(mid) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_resample_odd_rate_is_fast_and_correct() -> None:
    # gcd(22051, 24000) == 1: a direct sinc kernel would take gigabytes.
    orig = 22051
    x = tone(2.0, amp=0.5, freq=300.0, sr=orig)
    start = time.perf_counter()
    y = resample(x, orig, SR)
    assert time.perf_counter() - start < 2.0
    assert y.shape == (int(np.ceil(x.shape[0] * SR / orig)),)
    t = np.arange(y.shape[0]) / SR
    expected = 0.5 * np.sin(2 * np.pi * 300.0 * t)
    np.testing.assert_allclose(y[SR // 2 : SR], expected[SR // 2 : SR], atol=1e-3)


@pytest.mark.parametrize("orig", [48000, 48001])
def test_resample_removes_content_above_the_new_nyquist(orig: int) -> None:
    # 15 kHz cannot exist at 24 kHz; without a low-pass it would alias to 9 kHz.
    x = tone(0.5, amp=0.5, freq=15000.0, sr=orig)
    y = resample(x, orig, SR)
    assert rms(y[SR // 10 : -SR // 10]) < 0.01


def test_resample_multichannel_and_empty() -> None:
    x = np.stack([tone(0.1, sr=48000), tone(0.1, amp=0.1, sr=48000)])
    y = resample(x, 48000, SR)
    assert y.shape == (2, x.shape[1] // 2)
    np.testing.assert_allclose(y[1], resample(x[1], 48000, SR), atol=1e-6)
    assert resample(np.zeros(0, dtype=np.float32), 16000, SR).shape == (0,)


def test_resample_rejects_bad_rates() -> None:
    for orig, new in ((0, SR), (16000, -1), (16000.5, SR)):
        with pytest.raises(ValueError):
            resample(np.zeros(10, dtype=np.float32), orig, new)


# --- prepare_reference_audio ------------------------------------------------------------


def test_constants() -> None:
    assert (SAMPLE_RATE, HOP_LENGTH, TARGET_RMS) == (24000, 256, 0.1)


def test_prepare_trims_edges_and_appends_50ms() -> None:
    voice = tone(1.0, amp=0.5)
    x = np.concatenate([silence(0.2), voice, silence(0.3)])
    p = prepare_reference_audio(x, SR)
    assert isinstance(p, PreparedAudio)
    assert p.wav.dtype == np.float32 and p.wav.ndim == 1
    assert p.wav.shape == (SR + PAD,)
    np.testing.assert_array_equal(p.wav[:SR], voice)  # loud enough: left as is
    assert not p.wav[SR:].any()
    assert p.seconds == pytest.approx(1.05)
    assert p.rms_gain == 1.0
    assert p.clipped is False


def test_prepare_trims_low_level_noise_at_edges() -> None:
    rng = np.random.default_rng(0)
    hiss = (rng.standard_normal(SR) * 3e-4).astype(np.float32)  # about -70 dBFS
    x = np.concatenate([hiss[:4800], tone(2.0), hiss[4800:9600]])
    p = prepare_reference_audio(x, SR)
    assert p.wav.shape == (2 * SR + PAD,)


def test_quiet_reference_is_raised_and_gain_restores_it() -> None:
    voice = tone(2.0, amp=0.02)  # RMS ~0.014, well under the target
    p = prepare_reference_audio(np.concatenate([silence(0.5), voice]), SR)
    body = p.wav[:-PAD]
    assert body.shape == voice.shape
    assert rms(body) == pytest.approx(TARGET_RMS, rel=1e-4)
    assert p.rms_gain == pytest.approx(rms(voice) / TARGET_RMS, rel=1e-4)
    assert p.rms_gain < 1.0
    np.testing.assert_allclose(body * p.rms_gain, voice, atol=1e-6)


def test_quiet_recording_is_not_mistaken_for_silence() -> None:
    # At -50 dBFS RMS the voice itself sits under the edge threshold; judged on
    # raw levels it would be trimmed away entirely.
    voice = tone(3.0, amp=0.0045)
    p = prepare_reference_audio(np.concatenate([silence(1.0), voice, silence(1.0)]), SR)
    assert p.wav.shape == (3 * SR + PAD,)
    assert p.rms_gain == pytest.approx(rms(voice) / TARGET_RMS, rel=1e-4)


def test_loud_reference_is_left_alone() -> None:
    voice = tone(1.0, amp=0.9)
    p = prepare_reference_audio(voice, SR)
    np.testing.assert_array_equal(p.wav[:-PAD], voice)
    assert p.rms_gain == 1.0


def test_prepare_resamples_and_mixes_stereo_files(tmp_path: Path) -> None:
    x = np.concatenate([silence(0.25, 48000), tone(1.5, sr=48000), silence(0.25, 48000)])
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([x, x], axis=1), 48000, format="FLAC")
    p = prepare_reference_audio(path)
    assert abs(p.wav.shape[0] - (int(1.5 * SR) + PAD)) <= 2 * int(0.01 * SR)
    assert p.seconds == pytest.approx(p.wav.shape[0] / SR)
    assert dominant_freq(p.wav[:-PAD], SR) == pytest.approx(200.0, abs=1.0)


def test_prepare_accepts_torch_tensors() -> None:
    p = prepare_reference_audio(torch.from_numpy(tone(1.0, sr=16000))[None], 16000)
    assert p.wav.shape == (SR + PAD,)


def test_too_short_reports_measured_length_and_limit() -> None:
    x = np.concatenate([silence(1.0), tone(0.2), silence(1.0)])
    with pytest.raises(ReferenceTooShortError) as exc:
        prepare_reference_audio(x, SR)
    assert "0.20 s" in str(exc.value) and "0.3 s" in str(exc.value)
    p = prepare_reference_audio(x, SR, min_seconds=0.1)
    assert p.wav.shape == (int(0.2 * SR) + PAD,)


def test_empty_reference_is_too_short(tmp_path: Path) -> None:
    with pytest.raises(ReferenceTooShortError, match="empty"):
        prepare_reference_audio(np.zeros(0, dtype=np.float32), SR)
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(ReferenceTooShortError):
        prepare_reference_audio(path)


@pytest.mark.parametrize(
    "x",
    [
        np.zeros(SR, dtype=np.float32),
        np.full(SR, 5e-5, dtype=np.float32),  # under the RMS floor
        np.where(np.arange(SR) % 100 == 0, 5e-4, 0).astype(np.float32),  # under the peak floor
    ],
)
def test_silent_reference(x: np.ndarray) -> None:
    with pytest.raises(ReferenceSilentError, match="silent"):
        prepare_reference_audio(x, SR)


def test_lone_click_is_too_short() -> None:
    # Passes the level floors, but only one 10 ms frame holds any sound.
    x = np.zeros(10 * SR, dtype=np.float32)
    x[SR] = 0.2
    with pytest.raises(ReferenceTooShortError, match=r"only 0\.01 s"):
        prepare_reference_audio(x, SR)


def test_input_over_max_input_seconds_is_refused_before_resampling(monkeypatch) -> None:
    import f5_tts.audio as audio_mod

    def no_resampling(*args, **kwargs):
        raise AssertionError("resampled an input that is too long")

    monkeypatch.setattr(audio_mod, "resample", no_resampling)
    x = np.zeros(301 * 8000, dtype=np.float32)
    with pytest.raises(ReferenceTooLongError, match=r"301\.0 s.*limit is 300 s"):
        prepare_reference_audio(x, 8000)
    with pytest.raises(ReferenceTooLongError, match=r"limit is 5 s"):
        prepare_reference_audio(tone(6.0, sr=8000), 8000, max_input_seconds=5)


def test_long_input_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    sf.write(path, np.zeros(8000 * 7, dtype=np.float32), 8000, format="FLAC")
    with pytest.raises(ReferenceTooLongError, match=r"7\.0 s"):
        prepare_reference_audio(path, max_input_seconds=6)


def test_not_audio_passes_through_prepare(tmp_path: Path) -> None:
    path = tmp_path / "voice.ogg"
    path.write_bytes(b"OggS but not really")
    with pytest.raises(NotAudioError, match=r"voice\.ogg"):
        prepare_reference_audio(path)


def test_clip_at_long_pause() -> None:
    x = np.concatenate([tone(7.0), silence(1.5), tone(8.0)])
    p = prepare_reference_audio(x, SR)
    assert p.clipped is True
    assert p.wav.shape == (7 * SR + PAD,)
    np.testing.assert_array_equal(p.wav[: 7 * SR], x[: 7 * SR])


def test_clip_prefers_latest_pause_that_fits() -> None:
    x = np.concatenate([tone(6.5), silence(1.2), tone(3.0), silence(1.2), tone(5.0)])
    p = prepare_reference_audio(x, SR)
    # Both pauses (at 6.5 s and 10.7 s) fit in 12 s; the later one keeps more voice.
    assert p.wav.shape == (round(10.7 * SR) + PAD,)


def test_long_pause_too_early_falls_back_to_short_pause() -> None:
    # The only long pause would leave a 3 s clip; a 0.2 s dip at 9.5 s keeps more voice.
    x = np.concatenate([tone(3.0), silence(1.5), tone(5.0), silence(0.2), tone(6.0)])
    p = prepare_reference_audio(x, SR)
    assert p.clipped
    assert p.wav.shape == (int(9.5 * SR) + PAD,)


def test_short_pause_can_be_quiet_rather_than_silent() -> None:
    # -46 dBFS still counts as a pause at the -40 dBFS threshold.
    x = np.concatenate([tone(8.0), tone(0.3, amp=0.007), tone(7.0)])
    p = prepare_reference_audio(x, SR)
    assert p.wav.shape == (8 * SR + PAD,)


def test_pauses_past_the_limit_are_not_used() -> None:
    x = np.concatenate([tone(5.0), silence(0.3), tone(8.0), silence(1.5), tone(2.0)])
    p = prepare_reference_audio(x, SR)
    assert p.wav.shape == (5 * SR + PAD,)


def test_hard_cut_without_pauses() -> None:
    x = tone(15.0)
    p = prepare_reference_audio(x, SR)
    assert p.clipped
    assert p.wav.shape == (12 * SR + PAD,)
    assert p.seconds == pytest.approx(12.05)
    np.testing.assert_array_equal(p.wav[: 12 * SR], x[: 12 * SR])


def test_hard_cut_rather_than_a_clip_under_two_seconds() -> None:
    x = np.concatenate([tone(1.0), silence(1.5), tone(14.0)])
    p = prepare_reference_audio(x, SR)
    assert p.wav.shape == (12 * SR + PAD,)


def test_edge_silence_does_not_count_against_max_seconds() -> None:
    x = np.concatenate([silence(5.0), tone(11.0), silence(5.0)])
    p = prepare_reference_audio(x, SR)
    assert not p.clipped
    assert p.wav.shape == (11 * SR + PAD,)


def test_custom_max_seconds() -> None:
    x = np.concatenate([tone(3.0), silence(0.5), tone(4.0)])
    p = prepare_reference_audio(x, SR, max_seconds=5.0)
    assert p.clipped and p.wav.shape == (3 * SR + PAD,)
    p = prepare_reference_audio(x, SR, max_seconds=8.0)
    assert not p.clipped and p.wav.shape == (int(7.5 * SR) + PAD,)


def test_prepared_audio_is_frozen() -> None:
    p = prepare_reference_audio(tone(0.5), SR)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.rms_gain = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_seconds": 0}, {"min_seconds": -1}, {"min_seconds": 20}, {"max_input_seconds": 0}],
)
def test_prepare_rejects_bad_limits(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        prepare_reference_audio(tone(1.0), SR, **kwargs)


def test_prepare_is_deterministic_and_leaves_input_alone() -> None:
    x = np.concatenate([tone(9.0, amp=0.03), silence(1.2), tone(6.0, amp=0.03)])
    before = x.copy()
    a = prepare_reference_audio(x, SR)
    b = prepare_reference_audio(x, SR)
    np.testing.assert_array_equal(a.wav, b.wav)
    assert a.rms_gain == b.rms_gain
    np.testing.assert_array_equal(x, before)


# --- cross_fade_join --------------------------------------------------------------------


def test_join_empty_and_single() -> None:
    out = cross_fade_join([])
    assert out.dtype == np.float32 and out.shape == (0,)
    x = tone(0.5)
    np.testing.assert_array_equal(cross_fade_join([x]), x)


def test_join_overlap_longer_than_next_chunk() -> None:
    prev = np.ones(4, dtype=np.float32)
    nxt = np.full(3, 2.0, dtype=np.float32)
    # overlap = min(0.3 * 10, 4, 3) = 3; fade-out [1, .5, 0], fade-in [0, .5, 1]
    out = cross_fade_join([prev, nxt], sample_rate=10, cross_fade_duration=0.3)
    np.testing.assert_allclose(out, [1.0, 1.0, 1.5, 2.0])


def test_join_hand_checked_five_sample_fade() -> None:
    prev = np.ones(5, dtype=np.float32)
    nxt = np.full(6, 4.0, dtype=np.float32)
    # overlap 5: fade-out [1, .75, .5, .25, 0], fade-in [0, .25, .5, .75, 1]
    out = cross_fade_join([prev, nxt], sample_rate=10, cross_fade_duration=0.5)
    assert out.shape == (5 + 6 - 5,)
    np.testing.assert_allclose(out, [1.0, 1.75, 2.5, 3.25, 4.0, 4.0])


def test_join_overlap_limited_by_previous_chunk() -> None:
    prev = np.array([2.0, 2.0], dtype=np.float32)
    nxt = np.array([0.0, 0.0, 5.0, 5.0], dtype=np.float32)
    out = cross_fade_join([prev, nxt], sample_rate=100, cross_fade_duration=0.15)
    # overlap = min(15, 2, 4) = 2: [2*1 + 0*0, 2*0 + 0*1]
    np.testing.assert_allclose(out, [2.0, 0.0, 5.0, 5.0])


def test_join_three_chunks_lengths_and_values() -> None:
    a = np.arange(1, 7, dtype=np.float32)  # 1..6
    b = np.full(2, 10.0, dtype=np.float32)
    c = np.full(5, -1.0, dtype=np.float32)
    out = cross_fade_join([a, b, c], sample_rate=10, cross_fade_duration=0.3)
    # a|b: overlap min(3, 6, 2) = 2 -> [5*1 + 10*0, 6*0 + 10*1] = [5, 10]
    # (a+b)|c: overlap min(3, 6, 5) = 3 over [4, 5, 10] with fades [1, .5, 0] / [0, .5, 1]
    expected = [1, 2, 3, 4 * 1.0 + -1 * 0.0, 5 * 0.5 + -1 * 0.5, 10 * 0.0 + -1 * 1.0, -1, -1]
    assert out.shape == (6 + 2 + 5 - 2 - 3,)
    np.testing.assert_allclose(out, expected)


def test_join_realistic_lengths() -> None:
    waves = [tone(1.0), tone(0.5), tone(2.0)]
    out = cross_fade_join(waves)
    fade = int(0.15 * SR)
    assert out.shape == (int(3.5 * SR) - 2 * fade,)
    assert out.dtype == np.float32


def test_join_constant_signal_stays_constant() -> None:
    # The linear fades sum to one, so a steady signal has no dip or bump.
    waves = [np.full(n, 0.3, dtype=np.float32) for n in (5000, 2000, 7000)]
    out = cross_fade_join(waves, cross_fade_duration=0.15)
    np.testing.assert_allclose(out, 0.3, atol=1e-6)


@pytest.mark.parametrize("duration", [0.0, -0.15, 1e-6])
def test_join_without_fade_concatenates(duration: float) -> None:
    a, b = np.ones(3, dtype=np.float32), np.full(2, 2.0, dtype=np.float32)
    out = cross_fade_join([a, b], sample_rate=SR, cross_fade_duration=duration)
    np.testing.assert_array_equal(out, [1, 1, 1, 2, 2])


def test_join_with_empty_chunk() -> None:
    a, b = np.ones(3, dtype=np.float32), np.full(2, 2.0, dtype=np.float32)
    out = cross_fade_join([a, np.zeros(0, dtype=np.float32), b], sample_rate=10, cross_fade_duration=0.1)
    # a|empty: no overlap; then a|b overlap 1 keeps a's last sample (fade-in starts at 0)
    np.testing.assert_allclose(out, [1, 1, 1, 2])


def test_join_leaves_inputs_alone_and_rejects_2d() -> None:
    a, b = tone(0.2), tone(0.2, freq=300)
    a0, b0 = a.copy(), b.copy()
    cross_fade_join([a, b])
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    with pytest.raises(ValueError, match="1-D"):
        cross_fade_join([a[None, :], b])
    with pytest.raises(ValueError):
        cross_fade_join([a, b], sample_rate=0)
