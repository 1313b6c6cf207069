"""The voice samples in ``VOICES_DIR``: ``NAME.wav`` plus its transcript ``NAME.txt``.

Requests name a voice loosely, as the old clients did: ``"3_Nu"``,
``"3_Nu.wav"`` or ``"sample/3_Nu.wav"`` (the old folder name) all mean
``3_Nu``. Anything else that looks like a path (other folders, ``..``,
absolute paths, backslashes) is refused, and resolved paths must stay inside
the folder, so no name reaches a file outside ``VOICES_DIR``.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from app.core.errors import InvalidNameError, VoiceNotFoundError, VoiceTranscriptMissingError

VOICE_NAME_PATTERN = re.compile(r"^\w[\w.-]{0,127}$")
AUDIO_EXTENSIONS = (".wav", ".flac")
# Folder names the old system's clients put in front of a voice name.
LEGACY_FOLDER_PREFIXES = ("sample/", "samples/", "voices/")


@dataclass(frozen=True)
class Voice:
    name: str
    audio_path: Path
    transcript_path: Path

    def read_transcript(self) -> str | None:
        try:
            text = self.transcript_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None


@dataclass(frozen=True)
class VoiceInfo:
    name: str
    filename: str
    transcript: str | None
    duration_seconds: float | None
    sample_rate: int | None


class VoiceLibrary:
    def __init__(self, root: Path, default_voice: str) -> None:
        self.root = root.resolve()
        self.default_voice = default_voice

    def canonical_name(self, ref_name: str | None) -> str:
        """``"sample/3_Nu.wav"`` -> ``"3_Nu"``; refuses anything path-like."""
        name = (ref_name or self.default_voice).strip()
        for prefix in LEGACY_FOLDER_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        for extension in AUDIO_EXTENSIONS:
            if name.lower().endswith(extension):
                name = name[: -len(extension)]
                break
        if not VOICE_NAME_PATTERN.fullmatch(name) or ".." in name:
            raise InvalidNameError(f"invalid voice name: {ref_name!r}")
        return name

    def _inside(self, path: Path) -> bool:
        return path.resolve().parent == self.root

    def get(self, ref_name: str | None) -> Voice:
        name = self.canonical_name(ref_name)
        for extension in AUDIO_EXTENSIONS:
            audio_path = self.root / f"{name}{extension}"
            if audio_path.is_file():
                if not self._inside(audio_path):
                    raise InvalidNameError(f"voice {name!r} points outside the voices folder")
                transcript_path = self.root / f"{name}.txt"
                if transcript_path.exists() and not self._inside(transcript_path):
                    raise InvalidNameError(f"transcript of voice {name!r} points outside the voices folder")
                return Voice(name=name, audio_path=audio_path, transcript_path=transcript_path)
        raise VoiceNotFoundError(f"unknown voice {name!r}; GET /voices lists the available ones")

    def transcript_for(self, voice: Voice, ref_text: str | None) -> str:
        """The request's ``ref_text`` wins; else the ``.txt`` beside the clip."""
        if ref_text is not None and ref_text.strip():
            return ref_text.strip()
        transcript = voice.read_transcript()
        if transcript is None:
            raise VoiceTranscriptMissingError(
                f"voice {voice.name!r} has no transcript: add {voice.name}.txt beside the clip "
                "or send ref_text with the request"
            )
        return transcript

    def list(self) -> list[VoiceInfo]:
        """Blocking (reads file headers): call it in a worker thread."""
        if not self.root.is_dir():
            return []
        voices = []
        for path in sorted(self.root.iterdir()):
            if path.suffix.lower() not in AUDIO_EXTENSIONS or not VOICE_NAME_PATTERN.fullmatch(path.stem):
                continue
            if not path.is_file() or not self._inside(path):
                continue
            voice = Voice(path.stem, path, self.root / f"{path.stem}.txt")
            try:
                info = sf.info(str(path))
                duration, sample_rate = float(info.duration), int(info.samplerate)
            except Exception:  # an unreadable clip is still listed; using it fails with a clear error
                duration, sample_rate = None, None
            voices.append(VoiceInfo(voice.name, path.name, voice.read_transcript(), duration, sample_rate))
        return voices


class ReferenceCache:
    """Prepared references (mel of the clip, transcript), one per voice file version.

    Keyed by path, modification time, size and transcript, so replacing a clip
    or its transcript on disk is picked up without a restart.
    """

    def __init__(self, prepare: Callable[[Path, str], Any], max_entries: int = 64) -> None:
        self._prepare = prepare
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, int, int, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, voice: Voice, transcript: str) -> Any:
        stat = voice.audio_path.stat()
        key = (str(voice.audio_path), stat.st_mtime_ns, stat.st_size, transcript)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        reference = self._prepare(voice.audio_path, transcript)
        with self._lock:
            self._entries[key] = reference
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return reference

    def __len__(self) -> int:
        return len(self._entries)
