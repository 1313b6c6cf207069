"""The voice samples in ``VOICES_DIR``: ``NAME.wav`` (or ``.flac``, ``.mp3``,
``.ogg``) plus its transcript ``NAME.txt``; and the inline reference clips of
single requests, kept under ``DATA_DIR/references``.

Requests name a voice loosely, as the old clients did: ``"3_Nu"``,
``"3_Nu.wav"`` or ``"sample/3_Nu.wav"`` (the old folder name) all mean
``3_Nu``. Anything else that looks like a path (other folders, ``..``,
absolute paths, backslashes, NUL bytes, non-word characters) is refused, and
resolved paths (symlinks included) must stay inside the folder, so no name
reaches a file outside ``VOICES_DIR``.

A transcript made by the transcriber is marked by a hidden ``.NAME.transcribed``
file holding the SHA-256 of that transcript: the voice counts as transcribed
while ``NAME.txt`` still says exactly that (an edited transcript is the
user's own again).

Blocking (file system, audio headers): call it from a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from app.core.errors import (
    InvalidNameError,
    VoiceExistsError,
    VoiceNotFoundError,
    VoiceProtectedError,
    VoiceStorageError,
    VoiceTranscriptMissingError,
)

logger = logging.getLogger("app.voices")

VOICE_NAME_PATTERN = re.compile(r"^\w[\w.-]{0,127}$")
# Names given to new voices (uploads): ASCII only, so the file name is the same
# on every file system and in every URL.
UPLOAD_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg")
MEDIA_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg"}
# Folder names the old system's clients put in front of a voice name.
LEGACY_FOLDER_PREFIXES = ("sample/", "samples/", "voices/")
MAX_TRANSCRIPT_CHARS = 2000


def voice_exists_message(name: str) -> str:
    return f"voice {name!r} already exists; send overwrite=true to replace it"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename: a file that exists is complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Voice:
    name: str
    audio_path: Path
    transcript_path: Path

    @property
    def marker_path(self) -> Path:
        return self.audio_path.parent / f".{self.name}.transcribed"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.audio_path.suffix.lower(), "application/octet-stream")

    def read_transcript(self) -> str | None:
        try:
            text = self.transcript_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def transcribed(self, transcript: str | None = None) -> bool:
        """Whether ``NAME.txt`` is still the transcriber's output."""
        transcript = transcript if transcript is not None else self.read_transcript()
        if transcript is None:
            return False
        try:
            return self.marker_path.read_text(encoding="ascii").strip() == _sha256(transcript)
        except (OSError, UnicodeDecodeError):
            return False

    def mark_transcribed(self, transcript: str) -> None:
        try:
            _write_atomically(self.marker_path, _sha256(transcript).encode("ascii"))
        except OSError as exc:  # a read-only folder: the transcript still works
            logger.warning("voice.marker_not_saved", extra={"voice": self.name, "error": str(exc)})


@dataclass(frozen=True)
class VoiceInfo:
    name: str
    filename: str
    transcript: str | None
    duration_seconds: float | None
    sample_rate: int | None
    transcribed: bool = False
    size_bytes: int = 0
    media_type: str = "audio/wav"


class VoiceLibrary:
    def __init__(self, root: Path, default_voice: str, *, allow_delete_default: bool = False) -> None:
        self.root = root.resolve()
        self.default_voice = default_voice
        self.allow_delete_default = allow_delete_default
        self._write_lock = threading.Lock()

    # --- names ---
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

    def new_voice_name(self, name: str) -> str:
        """The name of a voice being created: ASCII letters, digits, ``_ . -``; 64 at most."""
        name = name.strip()
        if (
            not UPLOAD_NAME_PATTERN.fullmatch(name)
            or ".." in name
            or name.lower().endswith((*AUDIO_EXTENSIONS, ".txt"))
        ):
            raise InvalidNameError(
                f"invalid voice name {name!r}: use 1-64 ASCII letters, digits, '_', '.', '-' "
                "(starting with a letter or digit, no extension)"
            )
        return name

    def _inside(self, path: Path) -> bool:
        return path.resolve().parent == self.root

    # --- lookup ---
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

    def info(self, voice: Voice) -> VoiceInfo:
        try:
            header = sf.info(str(voice.audio_path))
            duration, sample_rate = float(header.duration), int(header.samplerate)
        except Exception:  # an unreadable clip is still listed; using it fails with a clear error
            duration, sample_rate = None, None
        try:
            size = voice.audio_path.stat().st_size
        except OSError:
            size = 0
        transcript = voice.read_transcript()
        return VoiceInfo(
            name=voice.name,
            filename=voice.audio_path.name,
            transcript=transcript,
            duration_seconds=duration,
            sample_rate=sample_rate,
            transcribed=voice.transcribed(transcript),
            size_bytes=size,
            media_type=voice.media_type,
        )

    def list(self) -> list[VoiceInfo]:
        """Every voice once (the file ``get`` would use when several extensions exist)."""
        if not self.root.is_dir():
            return []
        names = sorted(
            {
                path.stem
                for path in self.root.iterdir()
                if path.suffix.lower() in AUDIO_EXTENSIONS and VOICE_NAME_PATTERN.fullmatch(path.stem)
            }
        )
        voices = []
        for name in names:
            try:
                voice = self.get(name)
            except (InvalidNameError, VoiceNotFoundError):
                continue  # a symlink out of the folder, a folder named like a clip
            voices.append(self.info(voice))
        return voices

    def exists(self, name: str) -> bool:
        """Whether any clip file (or link) of that name is in the folder."""
        return any(os.path.lexists(self.root / f"{name}{ext}") for ext in AUDIO_EXTENSIONS)

    # --- changes ---
    def add(self, name: str, wav_bytes: bytes, transcript: str | None, *, transcribed: bool, overwrite: bool) -> Voice:
        """Store a checked clip as ``NAME.wav`` (+ ``NAME.txt``). 409 when it exists, unless ``overwrite``."""
        name = self.new_voice_name(name)
        with self._write_lock:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                present = [self.root / f"{name}{ext}" for ext in AUDIO_EXTENSIONS]
                present = [path for path in present if os.path.lexists(path)]
                if present and not overwrite:
                    raise VoiceExistsError(voice_exists_message(name))
                audio_path = self.root / f"{name}.wav"
                voice = Voice(name=name, audio_path=audio_path, transcript_path=self.root / f"{name}.txt")
                # Replacing a file never writes through a symlink: os.replace swaps the link itself.
                _write_atomically(audio_path, wav_bytes)
                for path in present:
                    if path != audio_path:
                        path.unlink(missing_ok=True)
                if transcript is not None:
                    _write_atomically(voice.transcript_path, (transcript.strip() + "\n").encode("utf-8"))
                else:
                    voice.transcript_path.unlink(missing_ok=True)
                if transcribed and transcript is not None:
                    voice.mark_transcribed(transcript)
                else:
                    voice.marker_path.unlink(missing_ok=True)
            except OSError as exc:
                raise VoiceStorageError(f"cannot write voice {name!r} into the voices folder: {exc}") from exc
        logger.info("voice.added", extra={"voice": name, "bytes": len(wav_bytes), "overwrite": bool(present)})
        return voice

    def delete(self, ref_name: str) -> tuple[Voice, list[str]]:
        """Remove the clip, its transcript and marker; returns the voice and the files removed.
        The default voice is protected unless ``allow_delete_default``."""
        voice = self.get(ref_name)
        if voice.name == self.canonical_name(None) and not self.allow_delete_default:
            raise VoiceProtectedError(
                f"voice {voice.name!r} is the default voice (DEFAULT_VOICE); "
                "set ALLOW_DELETE_DEFAULT_VOICE=true to allow deleting it"
            )
        removed: list[str] = []
        with self._write_lock:
            try:
                candidates = [self.root / f"{voice.name}{ext}" for ext in AUDIO_EXTENSIONS]
                for path in [*candidates, voice.transcript_path]:
                    if path.is_file() and self._inside(path):
                        path.unlink()
                        removed.append(path.name)
                voice.marker_path.unlink(missing_ok=True)
            except OSError as exc:
                raise VoiceStorageError(f"cannot delete voice {voice.name!r}: {exc}") from exc
        logger.info("voice.deleted", extra={"voice": voice.name, "files": removed})
        return voice, removed


class InlineReferences:
    """Reference clips sent with a single request (``ref_audio_base64``).

    Never written into ``VOICES_DIR``: each checked clip is stored as
    ``DATA_DIR/references/<id>.wav`` (id: SHA-256 of the uploaded bytes), so a
    queued job can be run again after a restart and the same clip sent twice
    is checked and prepared once. Files unused for ``ttl_seconds`` are removed.
    """

    ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")

    def __init__(
        self,
        root: Path,
        ttl_seconds: float,
        check: Callable[[bytes], Any],
        *,
        sweep_interval_seconds: float = 60.0,
    ) -> None:
        """``check(data)`` refuses a bad clip (raises) or returns one with ``to_wav_bytes()``."""
        self.root = root.resolve()
        self._check = check
        self.ttl_seconds = ttl_seconds
        self.sweep_interval_seconds = sweep_interval_seconds
        self._last_sweep = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def id_for(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:32]

    def _voice(self, ref_id: str) -> Voice:
        return Voice(
            name=f"inline-{ref_id[:12]}",
            audio_path=self.root / f"{ref_id}.wav",
            transcript_path=self.root / f"{ref_id}.txt",
        )

    def store(self, data: bytes) -> str:
        """Check ``data`` and keep it; returns its id."""
        ref_id = self.id_for(data)
        voice = self._voice(ref_id)
        if voice.audio_path.is_file():
            now = time.time()
            with contextlib.suppress(OSError):
                os.utime(voice.audio_path, (now, now))  # used again: kept longer
            return ref_id
        clip = self._check(data)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            _write_atomically(voice.audio_path, clip.to_wav_bytes())
        except OSError as exc:
            raise VoiceStorageError(f"cannot keep the inline reference clip: {exc}") from exc
        self.sweep_if_due()
        return ref_id

    def get(self, ref_id: str) -> Voice:
        if not self.ID_PATTERN.fullmatch(ref_id):
            raise InvalidNameError(f"invalid inline reference id {ref_id!r}")
        voice = self._voice(ref_id)
        if not voice.audio_path.is_file():
            raise VoiceNotFoundError(
                "the inline reference clip of this job is gone (kept INLINE_REFERENCE_TTL_SECONDS); send it again"
            )
        return voice

    def sweep_if_due(self) -> int:
        now = time.time()
        with self._lock:
            if now - self._last_sweep < self.sweep_interval_seconds:
                return 0
            self._last_sweep = now
        return self.sweep(now)

    def sweep(self, now: float | None = None) -> int:
        """Remove clips (and their transcripts) not used for ``ttl_seconds``."""
        now = time.time() if now is None else now
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.iterdir():
            if path.suffix != ".wav" or not self.ID_PATTERN.fullmatch(path.stem):
                continue
            try:
                if now - path.stat().st_mtime <= self.ttl_seconds:
                    continue
                voice = self._voice(path.stem)
                path.unlink()
                voice.transcript_path.unlink(missing_ok=True)
                voice.marker_path.unlink(missing_ok=True)
                removed += 1
            except OSError:
                continue
        if removed:
            logger.info("inline_references.removed", extra={"count": removed})
        return removed


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

    def invalidate(self, audio_path: Path) -> int:
        """Forget every version of one clip (a deleted or replaced voice)."""
        with self._lock:
            stale = [key for key in self._entries if key[0] == str(audio_path)]
            for key in stale:
                del self._entries[key]
        return len(stale)

    def __len__(self) -> int:
        return len(self._entries)
