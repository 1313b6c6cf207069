"""Real processes for the integration tests: the service (demo model), the
worker with the SDK's local test server (``--rp_serve_api``), the launcher,
and moto's S3 server. Loopback ports only; every process is stopped by its
PID; logs go to files so a full pipe never blocks a child."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.serverless.launcher import service_command

REPO = Path(__file__).resolve().parents[3]
VOICES = REPO / "voices"
API_KEY = "worker-test-key"

# Variables of the developer's shell that must not leak into a test process.
_SCRUB_PREFIXES = ("RUNPOD_", "BUCKET_", "WORKER_", "NEXTJS_", "WEBHOOK_", "MODEL_")
_SCRUB = {"API_KEY", "TTS_SERVICE_URL", "PORT", "HOST", "SERVICE_PORT", "SERVICE_HOST", "DEMO", "F5TTS_DEMO"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith(_SCRUB_PREFIXES)}
    env.update({"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"})
    env.update(extra)
    return env


def service_dirs(root: Path) -> dict[str, str]:
    """Temp VOICES_DIR (main.wav + main.txt), OUTPUT_DIR, DATA_DIR."""
    voices = root / "voices"
    voices.mkdir(parents=True, exist_ok=True)
    for name in ("main.wav", "main.txt"):
        shutil.copyfile(VOICES / name, voices / name)
    (root / "outputs").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    return {"VOICES_DIR": str(voices), "OUTPUT_DIR": str(root / "outputs"), "DATA_DIR": str(root / "data")}


def service_env(root: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        **service_dirs(root),
        WARMUP="false",
        LOG_FORMAT="text",
        BATCH_WAIT_SECONDS="0.2",
        RETENTION_SWEEP_SECONDS="3600",
        **extra,
    )


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        return self.popen.returncode

    def wait_log(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return True
            time.sleep(0.05)
        return needle in self.log()


def spawn(name: str, cmd: list[str], env: dict[str, str], log_dir: Path) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{int(time.time() * 1000)}.log"
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    return Proc(name, popen, log_path)


def wait_until(check: Callable[[], bool], proc: Proc, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}) before {what}:\n{proc.log()[-3000:]}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name}: not {what} after {timeout:.0f} s:\n{proc.log()[-3000:]}")


def start_service(root: Path, *, port: int | None = None, **extra: str) -> tuple[Proc, str]:
    port = port or free_port()
    proc = spawn("service", service_command("127.0.0.1", port, demo=True), service_env(root, **extra), root / "logs")
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        response = httpx.get(f"{url}/health", timeout=2)
        return response.status_code == 200 and response.json().get("status") == "ok"

    try:
        wait_until(healthy, proc, 60, "healthy")
    except Exception:
        proc.stop()
        raise
    return proc, url


def worker_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "app.serverless",
        "--rp_serve_api", "--rp_api_port", str(port), "--rp_api_host", "127.0.0.1",
    ]  # fmt: skip


def worker_env(service_url: str, **extra: str) -> dict[str, str]:
    values = {
        "TTS_SERVICE_URL": service_url,
        "WORKER_POLL_INTERVAL_SECONDS": "0.1",
        "WORKER_PROGRESS_MIN_INTERVAL_SECONDS": "0.5",
        "WORKER_CONFIRMATION_TIMEOUT_SECONDS": "2",
        "WORKER_CONFIRMATION_POLL_SECONDS": "0.1",
        "WORKER_RETRY_INITIAL_DELAY_SECONDS": "0.1",
        "UVICORN_LOG_LEVEL": "warning",
    }
    values.update(extra)
    return clean_env(**values)


def wait_worker(proc: Proc, url: str, timeout: float = 60) -> None:
    wait_until(lambda: httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200, proc, timeout, "serving")


def start_worker(root: Path, service_url: str, *, port: int | None = None, **extra: str) -> tuple[Proc, str]:
    port = port or free_port()
    proc = spawn("worker", worker_command(port), worker_env(service_url, **extra), root / "logs")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_worker(proc, url)
    except Exception:
        proc.stop()
        raise
    return proc, url


def start_moto(root: Path) -> tuple[Proc, str]:
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = spawn("moto", [str(moto), "-H", "127.0.0.1", "-p", str(port)], clean_env(), root / "logs")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/moto-api/", timeout=2).status_code < 500, proc, 60, "serving")
    except Exception:
        proc.stop()
        raise
    return proc, url


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
