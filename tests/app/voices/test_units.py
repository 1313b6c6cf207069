"""The voice library's parts in-process: clip checks, inline clips, the GPU hand-off,
transcripts, names, the planner's chunks and seeds, the Vinorm fallback."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from app.core.config import Settings
from app.core.errors import (
    AudioSilentError,
    AudioTooLongError,
    AudioTooShortError,
    AudioUnreadableError,
    InvalidNameError,
    PayloadTooLargeError,
    VoiceExistsError,
    VoiceNotFoundError,
    VoiceProtectedError,
    VoiceTranscriptMissingError,
)
from app.models.jobs import JobParams
from app.services.engine import EngineService
from app.services.planner import SynthesisPlanner, decode_base64_audio
from app.services.text.chunker import utf8_len
from app.services.text_frontend import BasicTextFrontend, ServiceTextFrontend
from app.services.voice_audio import ClipLimits, check_clip
from app.services.voice_library import InlineReferences, VoiceLibrary
from app.services.voice_transcripts import GpuThread, VoiceTranscripts, load_factory
from tests.app.service_process import LONG_TEXT, SHIPPED_VOICES
from tests.app.voices.clips import encode, silence_wav, speech, speech_wav

LIMITS = ClipLimits(min_seconds=1.0, max_seconds=30.0, max_bytes=2_000_000)


# --- clip checks ---
def test_check_clip_accepts_speech_in_any_supported_format() -> None:
    for data in (speech_wav(3.0), encode(speech(3.0, 48_000), 48_000, "FLAC"), encode(speech(3.0), 24_000, "MP3")):
        clip = check_clip(data, LIMITS)
        assert 2.9 < clip.seconds < 3.2 and clip.reference_wav.dtype == np.float32
        assert check_clip(clip.to_wav_bytes(), LIMITS).sample_rate == clip.sample_rate


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", AudioUnreadableError),
        (b"garbage" * 50, AudioUnreadableError),
        (speech_wav(0.6), AudioTooShortError),
        (speech_wav(30.5, rate=8_000), AudioTooLongError),
        (silence_wav(2.0), AudioSilentError),
        (b"\x00" * 2_000_001, PayloadTooLargeError),
    ],
)
def test_check_clip_refuses(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_clip(data, LIMITS)


def test_base64_decoding() -> None:
    assert decode_base64_audio("data:audio/wav;base64,aGVs\nbG8=") == b"hello"
    for bad in ("###", "", "data:audio/wav;base64,"):
        with pytest.raises(AudioUnreadableError):
            decode_base64_audio(bad)


# --- inline clips ---
def test_inline_clips_are_kept_once_and_swept_after_their_ttl(tmp_path: Path) -> None:
    checks: list[int] = []

    def check(data: bytes):
        checks.append(len(data))
        return check_clip(data, LIMITS)

    inline = InlineReferences(tmp_path / "refs", ttl_seconds=100, check=check)
    data = speech_wav(2.0)
    ref_id = inline.store(data)
    assert inline.store(data) == ref_id and len(checks) == 1
    voice = inline.get(ref_id)
    assert voice.audio_path.parent == (tmp_path / "refs").resolve() and voice.read_transcript() is None
    for bad in ("../x", "ABC", ref_id + "0"):
        with pytest.raises(InvalidNameError):
            inline.get(bad)
    with pytest.raises(VoiceNotFoundError):
        inline.get("0" * 32)
    voice.transcript_path.write_text("xin chào.")
    assert inline.sweep(now=time.time() + 50) == 0
    assert inline.sweep(now=time.time() + 200) == 1
    assert not voice.audio_path.exists() and not voice.transcript_path.exists()


# --- the GPU hand-off ---
def test_work_runs_on_the_gpu_thread_and_inline_from_it() -> None:
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpu")
    gpu = GpuThread()
    assert gpu.run(lambda: threading.current_thread().name) == threading.current_thread().name  # not attached
    gpu.attach(executor)
    assert gpu.run(lambda: threading.current_thread().name).startswith("gpu")
    # From the GPU thread itself (the warm-up plans there): runs inline, no deadlock.
    nested = executor.submit(lambda: gpu.run(lambda: threading.current_thread().name)).result(timeout=5)
    assert nested.startswith("gpu")
    executor.shutdown()


# --- transcripts ---
class _Fake:
    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, wav: np.ndarray, sample_rate: int) -> str:
        self.calls += 1
        return "xin chào các bạn"


def _library(tmp_path: Path, **kwargs) -> VoiceLibrary:
    root = tmp_path / "voices"
    root.mkdir()
    for name in ("main.wav", "main.txt", "giong_nam.wav"):
        shutil.copy(SHIPPED_VOICES / name, root / name)
    return VoiceLibrary(root, "main", **kwargs)


def test_transcripts_are_saved_marked_and_reused(tmp_path: Path) -> None:
    library = _library(tmp_path)
    fake = _Fake()
    transcripts = VoiceTranscripts(lambda: fake)
    voice = library.get("giong_nam")
    assert transcripts.for_voice(voice) == "xin chào các bạn"
    assert transcripts.for_voice(voice) == "xin chào các bạn" and fake.calls == 1
    assert voice.read_transcript() == "xin chào các bạn" and voice.transcribed()
    assert library.info(voice).transcribed
    assert transcripts.for_voice(library.get("main")).startswith("xin chào, đây là") and fake.calls == 1


def test_a_transcript_that_cannot_be_saved_is_kept_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.transcriber as transcriber_module

    def read_only(path: Path, text: str) -> None:
        raise PermissionError(13, "Read-only file system", str(path))

    monkeypatch.setattr(transcriber_module, "_write_atomically", read_only)
    library = _library(tmp_path)
    fake = _Fake()
    transcripts = VoiceTranscripts(lambda: fake)
    voice = library.get("giong_nam")
    assert transcripts.for_voice(voice) == transcripts.for_voice(voice) == "xin chào các bạn"
    assert fake.calls == 1 and voice.read_transcript() is None and not voice.transcribed()


def test_transcription_off_asks_for_a_transcript(tmp_path: Path) -> None:
    library = _library(tmp_path)
    transcripts = VoiceTranscripts(_Fake, enabled=False)
    with pytest.raises(VoiceTranscriptMissingError, match="AUTO_TRANSCRIBE"):
        transcripts.for_voice(library.get("giong_nam"))
    with pytest.raises(VoiceTranscriptMissingError, match="AUTO_TRANSCRIBE"):
        transcripts.for_clip("x", speech(2.0))


def test_the_factory_setting() -> None:
    assert callable(load_factory("tests.app.voices.fake_transcriber:make"))
    for bad in ("nocolon", "no.such.module:make", "tests.app.voices.fake_transcriber:nothing", ":x"):
        with pytest.raises(ValueError, match="TRANSCRIBER_FACTORY"):
            load_factory(bad)
    settings = Settings(_env_file=None, transcriber_factory="tests.app.voices.fake_transcriber:make")
    assert VoiceTranscripts.from_settings(settings).model == "tests.app.voices.fake_transcriber:make"


# --- names and files ---
def test_new_names_extensions_and_protection(tmp_path: Path) -> None:
    library = _library(tmp_path)
    for good in ("a", "Nu_3", "4_Nam_speed_1.1", "x-y"):
        assert library.new_voice_name(good) == good
    for bad in ("", "a/b", "x.wav", "x.mp3", "a..b", "é", ".x", "a" * 65):
        with pytest.raises(InvalidNameError):
            library.new_voice_name(bad)
    shutil.copy(SHIPPED_VOICES / "main.wav", library.root / "dual.flac")
    shutil.copy(SHIPPED_VOICES / "main.wav", library.root / "dual.wav")
    assert [v.filename for v in library.list() if v.name == "dual"] == ["dual.wav"]
    assert library.exists("dual") and not library.exists("nobody")
    with pytest.raises(VoiceExistsError):
        library.add("dual", speech_wav(2.0), "x", transcribed=False, overwrite=False)
    library.add("dual", speech_wav(2.0), "x", transcribed=False, overwrite=True)
    assert not (library.root / "dual.flac").exists()
    assert library.delete("dual")[1] == ["dual.wav", "dual.txt"]
    with pytest.raises(VoiceProtectedError):
        library.delete("main")
    allowed = VoiceLibrary(library.root, "main", allow_delete_default=True)
    assert allowed.delete("sample/main.wav")[1] == ["main.wav", "main.txt"]


# --- the planner ---
@pytest.fixture(scope="module")
def engine() -> EngineService:
    engine = EngineService(Settings(_env_file=None, demo=True))
    engine.load()
    engine.mark_ready()
    return engine


@pytest.fixture(scope="module")
def frontend() -> ServiceTextFrontend:
    frontend = ServiceTextFrontend()
    assert frontend.check()
    return frontend


def test_planning_chunks_with_the_vietnamese_chunker_one_job_per_chunk(
    engine: EngineService, frontend: ServiceTextFrontend
) -> None:
    planner = SynthesisPlanner(engine, VoiceLibrary(SHIPPED_VOICES, "main"), frontend)
    params = JobParams(
        text=LONG_TEXT + " Giá 1.500.000 đồng.", voice="main", speed=1.0, seed=41, nfe_step=4, cfg_strength=2.0
    )
    planned = planner.build(params)
    assert len(planned.chunks) > 3
    assert [chunk.seed for chunk in planned.chunks] == [41 + i for i in range(len(planned.chunks))]
    assert all(utf8_len(chunk.text) <= planned.max_bytes for chunk in planned.chunks)
    assert " ".join(chunk.text for chunk in planned.chunks) == planned.text
    assert "một triệu năm trăm nghìn đồng." in planned.text
    assert planner.plan(params)[0].text == planned.chunks[0].text  # deterministic
    raw = planner.build(params.model_copy(update={"normalize": False}))
    assert "1.500.000" in raw.text and raw.text != planned.text
    with_lexicon = planner.build(params.model_copy(update={"extra_lexicon": {"hồ gươm": "hồ hoàn kiếm"}}))
    assert "hồ hoàn kiếm" in with_lexicon.text and "hồ gươm" not in with_lexicon.text


def test_the_basic_frontend_serves_the_same_protocol(engine: EngineService) -> None:
    planner = SynthesisPlanner(engine, VoiceLibrary(SHIPPED_VOICES, "main"), BasicTextFrontend())
    params = JobParams(text="Xin  CHÀO\u200b 2/9", voice="main", speed=1.0, seed=1, nfe_step=4, cfg_strength=2.0)
    assert planner.build(params).text == "xin chào 2/9"


def test_rules_only_fallback_when_vinorm_cannot_run(tmp_path: Path) -> None:
    frontend = ServiceTextFrontend(vinorm_dir=tmp_path / "no-vinorm")
    assert frontend.mode == "unchecked"
    assert frontend.check() is False
    assert frontend.mode == "rules_only" and "normalizer_unavailable" in (frontend.vinorm_error or "")
    # Our rules and the lexicon still apply; leftover digits are read one by one.
    assert frontend.normalize("Giá iPhone 5tr, 12 người.") == "giá ai phôn năm triệu, một hai người."
