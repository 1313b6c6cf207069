"""The transcriber through the real transformers code path, with a tiny
randomly initialised Whisper model and tokenizer built here (no network)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from app.services.transcriber import (
    EmptyTranscriptError,
    Transcriber,
    TranscriberError,
    resample_to_16k,
    transcript_for,
    transcript_path,
)

SPECIALS = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|vi|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
]


def _byte_level_alphabet() -> list[str]:
    """The 256 printable characters byte-level BPE uses for the 256 bytes (GPT-2 scheme)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    keep += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = [], 0
    for b in range(256):
        if b in keep:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def build_tiny_whisper(folder: Path, *, full_generation_config: bool = True) -> None:
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    folder.mkdir(parents=True, exist_ok=True)
    alphabet = _byte_level_alphabet()
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    for token in SPECIALS:
        vocab[token] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    processor = WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer)
    processor.save_pretrained(folder)

    ids = {t: vocab[t] for t in SPECIALS}
    config = WhisperConfig(
        vocab_size=len(vocab),
        num_mel_bins=80,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_source_positions=1500,
        max_target_positions=48,
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|endoftext|>"],
        decoder_start_token_id=ids["<|startoftranscript|>"],
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    # Let random weights say something: only lower-case letters may come out,
    # and not the end token first.
    letters = {vocab[c] for c in "abcdefghijklmnopqrstuvwxyz"}
    gen = dict(
        decoder_start_token_id=ids["<|startoftranscript|>"],
        eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"],
        suppress_tokens=[i for i in range(len(vocab)) if i not in letters and i != ids["<|endoftext|>"]],
        begin_suppress_tokens=[ids["<|endoftext|>"]],
        max_length=48,
    )
    if full_generation_config:
        gen.update(
            lang_to_id={"<|en|>": ids["<|en|>"], "<|vi|>": ids["<|vi|>"]},
            task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
            no_timestamps_token_id=ids["<|notimestamps|>"],
            is_multilingual=True,
        )
    model.generation_config = GenerationConfig(**gen)
    model.save_pretrained(folder)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-whisper")
    build_tiny_whisper(folder)
    return folder


@pytest.fixture(scope="module")
def transcriber(tiny_model_dir: Path) -> Transcriber:
    return Transcriber(str(tiny_model_dir), device="cpu", max_new_tokens=6)


def _tone(seconds: float, rate: int, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


class RecordingProcessor:
    """Wraps the real processor, recording what it is called with."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[tuple[list[int], dict]] = []

    def __call__(self, audio, **kwargs):
        self.calls.append(([len(a) for a in audio], kwargs))
        return self.inner(audio, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_transcribes_through_the_real_model_and_is_deterministic(transcriber: Transcriber) -> None:
    assert not transcriber.loaded  # lazy
    wav = _tone(1.0, 16_000)
    first = transcriber.transcribe(wav, 16_000)
    assert transcriber.loaded
    assert isinstance(first, str) and first
    assert first == first.lower() and first.strip() == first
    assert transcriber.transcribe(wav, 16_000) == first


def test_resamples_to_16k_before_the_processor(transcriber: Transcriber) -> None:
    transcriber.load()
    recorder = RecordingProcessor(transcriber.processor)
    transcriber.processor = recorder
    try:
        stereo = np.stack([_tone(1.5, 24_000), _tone(1.5, 24_000, 330.0)], axis=1)  # (samples, channels)
        text = transcriber.transcribe(stereo, 24_000)
    finally:
        transcriber.processor = recorder.inner
    assert isinstance(text, str)
    ((lengths, kwargs),) = recorder.calls
    assert kwargs["sampling_rate"] == 16_000
    assert lengths == [24_000]  # 1.5 s at 16 kHz, one window


def test_long_audio_is_cut_into_30_second_windows(transcriber: Transcriber) -> None:
    transcriber.load()
    recorder = RecordingProcessor(transcriber.processor)
    transcriber.processor = recorder
    try:
        text = transcriber.transcribe(_tone(31.0, 8_000), 8_000)
    finally:
        transcriber.processor = recorder.inner
    ((lengths, _),) = recorder.calls
    assert lengths == [480_000, 16_000]
    assert isinstance(text, str) and text


def test_resample_helper() -> None:
    out = resample_to_16k(_tone(0.5, 48_000), 48_000)
    assert out.dtype == np.float32 and out.shape == (8_000,)
    ints = (np.ones(1600) * 16384).astype(np.int16)
    assert np.allclose(resample_to_16k(ints, 16_000), 16384 / 32767)
    with pytest.raises(ValueError):
        resample_to_16k(np.zeros(10), 0)


def test_old_generation_config_gets_language_and_task_tables(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    build_tiny_whisper(folder, full_generation_config=False)
    t = Transcriber(str(folder), device="cpu", max_new_tokens=4)
    text = t.transcribe(_tone(0.5, 16_000), 16_000)
    assert isinstance(text, str) and text
    config = t.model.generation_config
    vocab = t.processor.tokenizer.get_vocab()
    assert config.lang_to_id["<|vi|>"] == vocab["<|vi|>"]
    assert config.task_to_id["transcribe"] == vocab["<|transcribe|>"]
    assert config.no_timestamps_token_id == vocab["<|notimestamps|>"]


def test_loads_once_under_concurrent_first_use(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import WhisperForConditionalGeneration

    loads = []
    original = WhisperForConditionalGeneration.from_pretrained.__func__

    def counting(cls, *args, **kwargs):
        loads.append(args)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(WhisperForConditionalGeneration, "from_pretrained", classmethod(counting))
    t = Transcriber(str(tiny_model_dir), device="cpu", max_new_tokens=3)
    results: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(t.transcribe(_tone(0.3, 16_000), 16_000))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len(loads) == 1
    assert len(set(results)) == 1 and len(results) == 6


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    t = Transcriber(str(tmp_path / "nowhere"), device="cpu")
    with pytest.raises(TranscriberError, match="cannot load"):
        t.transcribe(_tone(0.2, 16_000), 16_000)
    assert not t.loaded


class FakeTranscriber:
    def __init__(self, text: str = "xin chào các bạn") -> None:
        self.text = text
        self.calls: list[tuple[int, int]] = []

    def transcribe(self, wav: np.ndarray, sample_rate: int) -> str:
        self.calls.append((len(wav), sample_rate))
        return self.text


def test_transcript_for_transcribes_once_and_saves_beside_the_clip(tmp_path: Path, transcriber: Transcriber) -> None:
    clip = tmp_path / "3_Nu.wav"
    sf.write(clip, _tone(0.8, 22_050), 22_050)
    text = transcript_for(clip, transcriber)
    assert isinstance(text, str) and text
    saved = transcript_path(clip)
    assert saved == tmp_path / "3_Nu.txt"
    assert saved.read_text(encoding="utf-8").strip() == text
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed, not left behind

    fake = FakeTranscriber()
    assert transcript_for(clip, fake) == text  # reused, not transcribed again
    assert fake.calls == []


def test_transcript_for_prefers_an_existing_txt_and_ignores_a_blank_one(tmp_path: Path) -> None:
    clip = tmp_path / "main.flac"
    sf.write(clip, _tone(0.5, 16_000), 16_000)
    (tmp_path / "main.txt").write_text("  Chào buổi sáng.\n", encoding="utf-8")
    fake = FakeTranscriber()
    assert transcript_for(clip, fake) == "Chào buổi sáng."
    assert fake.calls == []

    (tmp_path / "main.txt").write_text("  \n", encoding="utf-8")
    assert transcript_for(clip, fake) == "xin chào các bạn"
    assert fake.calls == [(8_000, 16_000)]
    assert (tmp_path / "main.txt").read_text(encoding="utf-8") == "xin chào các bạn\n"


def test_transcript_for_uses_given_audio_and_never_saves_an_empty_result(tmp_path: Path) -> None:
    clip = tmp_path / "voice.wav"  # never read: the audio is given
    fake = FakeTranscriber("")
    with pytest.raises(EmptyTranscriptError):
        transcript_for(clip, fake, audio=(np.zeros(2400, dtype=np.float32), 24_000))
    assert fake.calls == [(2400, 24_000)]
    assert not (tmp_path / "voice.txt").exists()


def test_transcript_for_concurrent_calls_transcribe_once(tmp_path: Path) -> None:
    clip = tmp_path / "a.wav"
    sf.write(clip, _tone(0.2, 16_000), 16_000)

    class Slow(FakeTranscriber):
        def transcribe(self, wav, sample_rate):
            import time

            time.sleep(0.05)
            return super().transcribe(wav, sample_rate)

    fake = Slow()
    out: list[str] = []
    threads = [threading.Thread(target=lambda: out.append(transcript_for(clip, fake))) for _ in range(5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert out == ["xin chào các bạn"] * 5
    assert len(fake.calls) == 1


def test_transcript_for_read_only_folder_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.transcriber as mod

    clip = tmp_path / "b.wav"
    sf.write(clip, _tone(0.2, 16_000), 16_000)

    def refuse(path, text):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(mod, "_write_atomically", refuse)
    assert transcript_for(clip, FakeTranscriber("một hai ba")) == "một hai ba"
    assert not (tmp_path / "b.txt").exists()
