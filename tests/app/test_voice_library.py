"""Voice names, transcripts, listing and the reference cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.core.errors import InvalidNameError, VoiceNotFoundError, VoiceTranscriptMissingError
from app.services.voice_library import ReferenceCache, VoiceLibrary
from tests.app.service_process import SHIPPED_VOICES


@pytest.fixture
def library(tmp_path: Path) -> VoiceLibrary:
    root = tmp_path / "voices"
    root.mkdir()
    shutil.copy(SHIPPED_VOICES / "main.wav", root / "main.wav")
    shutil.copy(SHIPPED_VOICES / "main.txt", root / "main.txt")
    shutil.copy(SHIPPED_VOICES / "giong_nam.wav", root / "3_Nu.wav")
    return VoiceLibrary(root, default_voice="main")


@pytest.mark.parametrize("name", ["3_Nu", "3_Nu.wav", "3_Nu.WAV", "sample/3_Nu.wav", "voices/3_Nu", " 3_Nu "])
def test_the_old_clients_ways_of_naming_a_voice(library: VoiceLibrary, name: str) -> None:
    assert library.get(name).name == "3_Nu"


@pytest.mark.parametrize(
    "name", ["../main", "../../etc/passwd", "/etc/passwd", "sample/../main", "a/b", "..\\main", ".main", "..", "x\x00"]
)
def test_path_like_names_are_refused(library: VoiceLibrary, name: str) -> None:
    with pytest.raises(InvalidNameError):
        library.get(name)


def test_default_unknown_and_symlinked_voices(library: VoiceLibrary, tmp_path: Path) -> None:
    assert library.get(None).name == "main"
    with pytest.raises(VoiceNotFoundError):
        library.get("nobody")
    outside = tmp_path / "outside.wav"
    shutil.copy(SHIPPED_VOICES / "main.wav", outside)
    (library.root / "sneaky.wav").symlink_to(outside)
    with pytest.raises(InvalidNameError):
        library.get("sneaky")


def test_transcripts(library: VoiceLibrary) -> None:
    main = library.get("main")
    assert library.transcript_for(main, None).startswith("xin chào")
    assert library.transcript_for(main, "  khác  ") == "khác"
    with pytest.raises(VoiceTranscriptMissingError, match="3_Nu.txt"):
        library.transcript_for(library.get("3_Nu"), None)
    assert library.transcript_for(library.get("3_Nu"), "có rồi") == "có rồi"


def test_listing(library: VoiceLibrary) -> None:
    (library.root / "notes.md").write_text("ignored")
    voices = {voice.name: voice for voice in library.list()}
    assert set(voices) == {"main", "3_Nu"}
    assert voices["main"].transcript and voices["3_Nu"].transcript is None
    assert voices["main"].sample_rate == 24000 and 3 < (voices["main"].duration_seconds or 0) < 8


def test_the_reference_cache_follows_the_file(library: VoiceLibrary) -> None:
    prepared: list[tuple[Path, str]] = []

    def prepare(path: Path, text: str) -> tuple[str, int]:
        prepared.append((path, text))
        return (text, len(prepared))

    cache = ReferenceCache(prepare, max_entries=2)
    main = library.get("main")
    assert cache.get(main, "a") == ("a", 1)
    assert cache.get(main, "a") == ("a", 1)
    assert cache.get(main, "b") == ("b", 2)  # another transcript is another reference
    stat = main.audio_path.stat()
    os.utime(main.audio_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.get(main, "a") == ("a", 3)  # the clip changed on disk
    assert len(cache) == 2
