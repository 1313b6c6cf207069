import numpy as np
import pytest
import soundfile as sf
import torch

from f5_tts import (
    F5TTS,
    InvalidTextError,
    NotAudioError,
    ReferenceSilentError,
    ReferenceTooLongError,
    ReferenceTooShortError,
    SynthesisRequest,
)
from f5_tts.chunking import utf8_len

from .conftest import SR, tone

FAST = dict(nfe_step=4, seed=7)
REF_TEXT = "xin chào các bạn"


def test_demo_is_deterministic_and_needs_no_files():
    a, b = F5TTS.demo(seed=0), F5TTS.demo(seed=0)
    for (k, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y), k
    assert a.sample_rate == 24000 and a.arch_name == "demo" and a.device.type == "cpu"
    c = F5TTS.demo(seed=1)
    assert not torch.equal(c.model.transformer.proj_out.weight, a.model.transformer.proj_out.weight)


def test_infer_returns_float32_24k_and_is_reproducible(engine, ref_clip):
    audio, sr = engine.infer(ref_clip, REF_TEXT, "hôm nay trời đẹp quá.", **FAST)
    again, _ = engine.infer(ref_clip, REF_TEXT, "hôm nay trời đẹp quá.", **FAST)
    other, _ = engine.infer(ref_clip, REF_TEXT, "hôm nay trời đẹp quá.", nfe_step=4, seed=8)
    assert sr == 24000 and audio.dtype == np.float32 and audio.ndim == 1
    assert np.array_equal(audio, again)
    assert not np.array_equal(audio, other)
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0


def test_infer_accepts_a_path(engine, tmp_path, ref_clip):
    path = tmp_path / "voice.wav"
    sf.write(path, ref_clip[0], SR)
    from_path, _ = engine.infer(path, REF_TEXT, "một hai ba", **FAST)
    from_array, _ = engine.infer(ref_clip, REF_TEXT, "một hai ba", **FAST)
    assert from_path.shape == from_array.shape


def test_durations_count_utf8_bytes_not_characters(engine, ref_clip):
    ref = engine.prepare_reference(ref_clip, REF_TEXT)
    assert ref.text_bytes == utf8_len(ref.text) and ref.text_bytes > len(ref.text)
    gen = "trường học"  # 10 characters, 14 bytes
    (chunk,) = engine.plan(ref, gen, speed=1.0, seed=1)
    expected = ref.frames + int(ref.frames / ref.text_bytes * utf8_len(gen) / 1.0)
    assert chunk.duration == expected
    (slow,) = engine.plan(ref, gen, speed=0.5, seed=1)
    assert slow.duration == ref.frames + int(ref.frames / ref.text_bytes * utf8_len(gen) / 0.5)


def test_audio_length_follows_the_planned_duration(engine, ref_clip):
    ref = engine.prepare_reference(ref_clip, REF_TEXT)
    (chunk,) = engine.plan(ref, "một hai ba bốn năm", nfe_step=4, seed=2)
    (wave,) = engine.synthesize([chunk])
    assert len(wave) == (chunk.duration - ref.frames - 1) * 256  # a centred iSTFT of n frames


def test_long_text_is_chunked_and_cross_faded(engine, ref_clip):
    ref = engine.prepare_reference(ref_clip, REF_TEXT)
    text = " ".join(f"đây là câu số {i} trong một đoạn văn khá dài." for i in range(12))
    chunks = engine.plan(ref, text, nfe_step=4, seed=100)
    assert len(chunks) > 1
    assert [c.seed for c in chunks] == [100 + i for i in range(len(chunks))]
    assert " ".join(c.text for c in chunks) == engine.normalize_text(text)
    waves = engine.synthesize(chunks)
    audio, _ = engine.infer(ref_clip, REF_TEXT, text, nfe_step=4, seed=100, cross_fade_duration=0.15)
    overlap = int(0.15 * SR)
    assert len(audio) == sum(len(w) for w in waves) - overlap * (len(waves) - 1)


def test_infer_batch_matches_each_request_alone(engine, ref_clip):
    other_ref = (tone(3.2, freq=330.0), SR)
    requests = [
        SynthesisRequest(ref_clip, REF_TEXT, "một hai ba", nfe_step=4, seed=1),
        SynthesisRequest(other_ref, "giọng thứ hai", "bốn năm sáu bảy tám chín mười", nfe_step=4, seed=2, speed=1.3),
        SynthesisRequest(ref_clip, REF_TEXT, "a", nfe_step=4, seed=3),
    ]
    together = engine.infer_batch(requests)
    for req, res in zip(requests, together):
        alone = engine.infer_batch([req])[0]
        assert res.error is None
        assert res.audio.shape == alone.audio.shape
        assert np.abs(res.audio - alone.audio).max() <= 1e-4


def test_one_bad_request_does_not_touch_the_others(engine, ref_clip):
    good = SynthesisRequest(ref_clip, REF_TEXT, "một hai ba", nfe_step=4, seed=1)
    results = engine.infer_batch([good, SynthesisRequest(ref_clip, REF_TEXT, "   ", nfe_step=4), good])
    assert isinstance(results[1].error, InvalidTextError)
    assert results[0].error is None and np.array_equal(results[0].audio, results[2].audio)


def test_synthesize_cancels_items_between_steps(engine, ref_clip):
    ref = engine.prepare_reference(ref_clip, REF_TEXT)
    chunks = [engine.plan(ref, t, nfe_step=6, seed=s)[0] for t, s in (("một hai", 1), ("ba bốn năm", 2))]
    full = engine.synthesize(chunks)
    steps = []
    out = engine.synthesize(
        chunks, progress=lambda k, n: steps.append(k), cancelled=lambda: {0} if len(steps) >= 3 else ()
    )
    assert out[0] is None
    assert np.abs(out[1] - full[1]).max() <= 1e-4
    assert steps == list(range(1, 7))


def test_chunks_of_a_batch_must_share_the_time_grid(engine, ref_clip):
    ref = engine.prepare_reference(ref_clip, REF_TEXT)
    a = engine.plan(ref, "một", nfe_step=4, seed=1)[0]
    b = engine.plan(ref, "hai", nfe_step=8, seed=1)[0]
    with pytest.raises(ValueError, match="batch_key"):
        engine.synthesize([a, b])


def test_progress_counts_all_steps_of_all_chunks(engine, ref_clip):
    seen = []
    text = " ".join(f"câu thứ {i} của đoạn văn dài này." for i in range(10))
    engine.infer(ref_clip, REF_TEXT, text, nfe_step=4, seed=1, progress=lambda d, t: seen.append((d, t)))
    totals = {t for _, t in seen}
    assert len(totals) == 1
    total = totals.pop()
    assert total % 4 == 0 and total > 4
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == total


def test_quiet_reference_is_raised_and_the_output_lowered_back(engine):
    quiet_clip = tone(2.5, amp=0.03)
    at_target = quiet_clip * np.float32(0.1 / np.sqrt(np.mean(quiet_clip**2)))
    quiet = engine.prepare_reference((quiet_clip, SR), REF_TEXT)
    normal = engine.prepare_reference((at_target, SR), REF_TEXT)
    assert normal.rms_gain == pytest.approx(1.0, abs=1e-3)
    assert 0 < quiet.rms_gain < 0.5
    assert torch.allclose(quiet.mel, normal.mel, atol=1e-3)  # the model hears both at RMS 0.1
    (q,) = engine.synthesize(engine.plan(quiet, "một hai", nfe_step=4, seed=1))
    (n,) = engine.synthesize(engine.plan(normal, "một hai", nfe_step=4, seed=1))
    assert np.allclose(q, n * quiet.rms_gain / normal.rms_gain, atol=1e-4)


def test_fix_duration_sets_the_total_length(engine, ref_clip):
    ref = engine.prepare_reference(ref_clip, REF_TEXT)
    (chunk,) = engine.plan(ref, "một hai", fix_duration=4.0, seed=1)
    assert chunk.duration == int(4.0 * 24000 / 256)


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("", InvalidTextError, "empty"),
        ("   \n", InvalidTextError, "empty"),
        ("日本語", InvalidTextError, "no character"),
    ],
)
def test_bad_text(engine, ref_clip, text, error, match):
    with pytest.raises(error, match=match):
        engine.infer(ref_clip, REF_TEXT, text, **FAST)


def test_bad_reference_audio(engine, tmp_path):
    not_audio = tmp_path / "clip.wav"
    not_audio.write_bytes(b"definitely not a wav file")
    with pytest.raises(NotAudioError):
        engine.infer(not_audio, REF_TEXT, "một", **FAST)
    with pytest.raises(ReferenceTooShortError):
        engine.infer((tone(0.2), SR), REF_TEXT, "một", **FAST)
    with pytest.raises(ReferenceSilentError):
        engine.infer((np.zeros(SR * 2, dtype=np.float32), SR), REF_TEXT, "một", **FAST)
    with pytest.raises(ReferenceTooLongError):
        engine.infer((tone(301.0), SR), REF_TEXT, "một", **FAST)


def test_long_reference_is_clipped_to_about_12_seconds(engine):
    ref = engine.prepare_reference((tone(20.0), SR), REF_TEXT)
    assert ref.seconds <= 12.1
    assert ref.frames == ref.mel.shape[0]


def test_bad_numbers_are_refused(engine, ref_clip):
    ref = engine.prepare_reference(ref_clip, REF_TEXT)
    with pytest.raises(ValueError, match="speed"):
        engine.plan(ref, "một", speed=0)
    with pytest.raises(ValueError, match="nfe_step"):
        engine.plan(ref, "một", nfe_step=0)
