"""Run the Vinorm engine binary safely: a private working folder per call,
many texts per call, a time limit, and clear errors.

The vinorm package's own Python wrapper is never imported: it imports ``imp``
(gone in Python 3.12) and writes ``input.txt`` into its package folder, which
races between concurrent requests and fails on a read-only install. The engine
(``main``, a C++ program linked against the ICU libraries shipped in ``lib/``)
reads ``input.txt`` and the ``Dict``, ``Mapping`` and ``RegexRule`` folders from
its working directory and writes ``output.txt`` there, one ``#line#``-terminated
record per input line. So each call gets a fresh temporary folder holding
symlinks to the three data folders, and the binary runs there by absolute path.

Batching: the engine costs ~15-20 ms per input *line* whatever its length,
but only ~1 ms per sentence inside a line. So the texts of a call are packed
into a few long lines, joined by a separator word the engine passes through
unchanged (``SEPARATOR``), and the output is split on it again. A line whose
separator count does not come back intact is re-run one text per line.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.services.text.errors import (
    VinormFailedError,
    VinormNotInstalledError,
    VinormTimeoutError,
)

__all__ = ["SEPARATOR", "VinormInstall", "VinormRunner", "locate_vinorm"]

logger = logging.getLogger("app.text.vinorm")

# A lower-case word with a vowel: the engine neither spells it out (it spells
# vowel-less words letter by letter) nor maps it. Removed from input texts.
SEPARATOR = "qqsepqq"
_SEPARATOR_IN_INPUT = re.compile(SEPARATOR, re.IGNORECASE)
_SEPARATOR_SPLIT = re.compile(rf"\s*\b{SEPARATOR}\b\s*")
_RECORD_END = "#line#"
_DATA_DIRS = ("Dict", "Mapping", "RegexRule")
# -punc keeps punctuation as tokens (without it ':' '!' '?' ';' become '.' or ',');
# -lower lower-cases. No -unknown: unknown all-capital words are spelled out
# letter by letter (GDP -> giy đi pi), which is how they are read aloud.
DEFAULT_FLAGS = ("-punc", "-lower")


@dataclass(frozen=True)
class VinormInstall:
    package_dir: Path
    binary: Path
    lib_dir: Path


def locate_vinorm(package_dir: str | os.PathLike[str] | None = None) -> VinormInstall:
    """Find the engine's files without importing the package."""
    if package_dir is None:
        try:
            spec = importlib.util.find_spec("vinorm")
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            raise VinormNotInstalledError("the vinorm package is not installed (pip install vinorm==2.0.7)")
        package_dir = Path(spec.origin).parent
    root = Path(package_dir)
    binary = root / "main"
    missing = [p.name for p in (binary, *(root / d for d in _DATA_DIRS), root / "lib") if not p.exists()]
    if missing:
        raise VinormNotInstalledError(f"vinorm at {root} lacks {', '.join(missing)}")
    return VinormInstall(package_dir=root, binary=binary, lib_dir=root / "lib")


class VinormRunner:
    """Normalizes many texts per engine call; safe to share between threads.

    ``normalize_many(texts)`` returns one engine output per text (raw: spaced
    punctuation, lower case). Texts must be single lines; newlines become spaces.
    """

    def __init__(
        self,
        package_dir: str | os.PathLike[str] | None = None,
        *,
        timeout: float = 30.0,
        max_line_chars: int = 8000,
        max_concurrent: int | None = None,
        flags: Sequence[str] = DEFAULT_FLAGS,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_line_chars < 1:
            raise ValueError("max_line_chars must be positive")
        self._package_dir = package_dir
        self.timeout = timeout
        self.max_line_chars = max_line_chars
        self.flags = tuple(flags)
        self._slots = threading.BoundedSemaphore(max_concurrent or max(2, os.cpu_count() or 2))
        self._setup_lock = threading.Lock()
        self._install: VinormInstall | None = None
        self._binary: Path | None = None
        self._private_bin_dir: str | None = None
        self.calls = 0  # engine processes started (for tests and metrics)

    # --- set-up -------------------------------------------------------------

    def install(self) -> VinormInstall:
        """Locate the engine and make sure its binary can run (once)."""
        self._ensure_ready()
        assert self._install is not None
        return self._install

    def _ensure_ready(self) -> Path:
        if self._binary is not None:
            return self._binary
        with self._setup_lock:
            if self._binary is None:
                install = locate_vinorm(self._package_dir)
                self._binary = self._executable(install.binary)
                self._install = install
        return self._binary

    def _executable(self, binary: Path) -> Path:
        if os.access(binary, os.X_OK):
            return binary
        # Some wheels lose the +x bit. Fix it in place if we may, else in a private copy.
        with contextlib.suppress(OSError):
            binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        if os.access(binary, os.X_OK):
            return binary
        self._private_bin_dir = tempfile.mkdtemp(prefix="vinorm-bin-")
        copy = Path(self._private_bin_dir) / binary.name
        try:
            shutil.copy2(binary, copy)
            copy.chmod(0o755)
        except OSError as exc:
            raise VinormNotInstalledError(f"cannot make the vinorm engine executable: {exc}") from exc
        logger.info("vinorm engine %s is not executable; running a private copy %s", binary, copy)
        return copy

    def close(self) -> None:
        """Remove the private copy of the binary, if one was made."""
        if self._private_bin_dir:
            shutil.rmtree(self._private_bin_dir, ignore_errors=True)
            self._private_bin_dir = None
            self._binary = None

    # --- normalization --------------------------------------------------------

    def normalize_many(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        clean = [self._sanitize(t) for t in texts]
        results = [""] * len(clean)
        todo = [i for i, t in enumerate(clean) if t]
        if not todo:
            return results
        lines = self._pack(todo, clean)
        outputs = self._run([" " + f" {SEPARATOR} ".join(clean[i] for i in line) + " " for line in lines])
        retry: list[int] = []
        for line, output in zip(lines, outputs):
            parts = _SEPARATOR_SPLIT.split(output.strip())
            if len(parts) == len(line):
                for i, part in zip(line, parts):
                    results[i] = part.strip()
            else:
                retry.extend(line)
        if retry:
            logger.warning("vinorm lost a separator; re-running %d texts one per line", len(retry))
            for i, output in zip(retry, self._run([clean[i] for i in retry])):
                if SEPARATOR in output:
                    raise VinormFailedError("vinorm output cannot be aligned with its input")
                results[i] = output.strip()
        return results

    @staticmethod
    def _sanitize(text: str) -> str:
        text = _SEPARATOR_IN_INPUT.sub(" ", text)
        # '#' would let a text forge the engine's record separator; it reads '#' as nothing anyway.
        text = text.replace("#", " ")
        return " ".join(text.split())

    def _pack(self, todo: list[int], texts: list[str]) -> list[list[int]]:
        lines: list[list[int]] = []
        current: list[int] = []
        size = 0
        for i in todo:
            n = len(texts[i]) + len(SEPARATOR) + 2
            if current and size + n > self.max_line_chars:
                lines.append(current)
                current, size = [], 0
            current.append(i)
            size += n
        if current:
            lines.append(current)
        return lines

    def _run(self, lines: list[str]) -> list[str]:
        """One engine process over ``lines``; one output record per line."""
        binary = self._ensure_ready()
        install = self._install
        assert install is not None
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (str(install.lib_dir), os.environ.get("LD_LIBRARY_PATH", "")) if p
        )
        with self._slots, tempfile.TemporaryDirectory(prefix="vinorm-") as work:
            for name in _DATA_DIRS:
                target = install.package_dir / name
                link = Path(work) / name
                try:
                    link.symlink_to(target, target_is_directory=True)
                except OSError:
                    shutil.copytree(target, link)
            Path(work, "input.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            self.calls += 1
            try:
                proc = subprocess.run(
                    [str(binary), *self.flags],
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=self.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise VinormTimeoutError(f"vinorm took longer than {self.timeout:g} s") from None
            except OSError as exc:
                raise VinormNotInstalledError(f"cannot start the vinorm engine: {exc}") from exc
            if proc.returncode != 0:
                tail = proc.stderr.decode("utf-8", "replace").strip()[-300:]
                raise VinormFailedError(f"vinorm exited with status {proc.returncode}: {tail}")
            try:
                raw = Path(work, "output.txt").read_bytes()
            except OSError as exc:
                raise VinormFailedError(f"vinorm wrote no output: {exc}") from exc
        # The engine can cut a multi-byte letter in half on odd input: drop the debris.
        records = raw.decode("utf-8", "replace").replace("\ufffd", "").split(_RECORD_END)
        if not records[-1].strip():
            records.pop()  # what follows the last record's end marker
        if len(records) != len(lines):
            raise VinormFailedError(f"vinorm returned {len(records)} records for {len(lines)} lines")
        return [" ".join(r.split()) for r in records]
