"""Run the real service in a subprocess (``f5-tts-vi serve --demo``) for
integration tests: real uvicorn, real SQLite file, real HTTP on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_VOICES = REPO_ROOT / "voices"

# Small and quick: every synthesis in the tests uses few ODE steps.
TEST_NFE_STEP = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05, what: str = "") -> Any:
    """Poll until ``predicate()`` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def make_test_voices(target: Path) -> Path:
    """The shipped voices plus two problem cases: a clip without transcript and a file that is not audio."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED_VOICES.iterdir():
        if path.suffix in (".wav", ".txt"):
            shutil.copy(path, target / path.name)
    shutil.copy(SHIPPED_VOICES / "giong_nam.wav", target / "no_transcript.wav")
    (target / "broken.wav").write_bytes(b"this is not a wav file at all" * 100)
    (target / "broken.txt").write_text("xin chào.", encoding="utf-8")
    return target


@dataclass
class ServiceProcess:
    root: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output_dir(self) -> Path:
        return Path(self.env["OUTPUT_DIR"])

    @property
    def data_dir(self) -> Path:
        return Path(self.env["DATA_DIR"])

    @property
    def voices_dir(self) -> Path:
        return Path(self.env["VOICES_DIR"])

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 60.0)
        return httpx.Client(base_url=self.url, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("timeout", 120.0)
        return httpx.AsyncClient(base_url=self.url, **kwargs)

    def start(self, wait: bool = True, timeout: float = 90.0) -> ServiceProcess:
        assert self.process is None, "already running"
        self.starts += 1
        self.log_path = self.root / f"server-{self.starts}.log"
        log = self.log_path.open("wb")
        command = [sys.executable, "-m", "app.cli", "serve", "--demo", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                return httpx.get(f"{self.url}/health", timeout=2.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=timeout, interval=0.1, what="the server to become healthy")

    def log_tail(self, lines: int = 60) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Send ``sig`` to the server (by its PID) and wait for it to exit; returns the exit code."""
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            os.kill(process.pid, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.process = None
        return process.returncode

    def kill_hard(self) -> None:
        self.stop(signal.SIGKILL, timeout=10)


def service_env(root: Path, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    # Never reach the network from tests, never read a developer's .env choices.
    env.update(
        {
            "VOICES_DIR": str(make_test_voices(root / "voices")),
            "OUTPUT_DIR": str(root / "outputs"),
            "DATA_DIR": str(root / "data"),
            "HF_HUB_OFFLINE": "1",
            "HF_HOME": str(root / "hf-home"),
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "INFO",
            "DEFAULT_NFE_STEP": str(TEST_NFE_STEP),
            "GRACEFUL_SHUTDOWN_SECONDS": "20",
            "BATCH_WAIT_SECONDS": "0.05",
            # PhoWhisper is never downloaded in tests; tests/app/voices injects a fake transcriber.
            "AUTO_TRANSCRIBE": "false",
        }
    )
    # Empty, not absent: a developer's .env must not switch these on in tests.
    for key in ("API_KEY", "WEBHOOK_URL", "NEXTJS_WEBHOOK_URL", "WEBHOOK_SECRET", "PUBLIC_BASE_URL"):
        env[key] = ""
    for key in ("F5TTS_DEMO", "DEMO"):  # --demo decides
        env.pop(key, None)
    env.update(overrides)
    return env


def read_wav(data: bytes, tmp: Path) -> tuple[np.ndarray, int]:
    path = tmp / f"check-{time.monotonic_ns()}.wav"
    path.write_bytes(data)
    audio, sample_rate = sf.read(path, dtype="float32")
    return audio, sample_rate


# A text long enough to be split into several chunks by the engine's planner.
LONG_TEXT = " ".join(
    [
        "hôm nay là một ngày đẹp trời, chúng tôi cùng nhau đi dạo quanh hồ gươm và ngắm nhìn những hàng cây xanh.",
        "buổi chiều, cả gia đình quây quần bên mâm cơm, kể cho nhau nghe những câu chuyện vui trong tuần.",
        "tối đến, thành phố lên đèn, những con phố nhỏ trở nên nhộn nhịp với tiếng cười nói của mọi người.",
    ]
    * 3
)
