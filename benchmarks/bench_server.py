"""Starting the service for a benchmark, and describing the machine it ran on."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StartedServer:
    """The service in a subprocess on a free loopback port, with its own temporary folders."""

    def __init__(self, args: argparse.Namespace, label: str, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
        env = dict(os.environ)
        env.update(
            OUTPUT_DIR=str(self.workdir / "outputs"),
            DATA_DIR=str(self.workdir / "data"),
            VOICES_DIR=str(REPO_ROOT / "voices"),
            LOG_FORMAT="text",
            LOG_LEVEL="WARNING",
            RELEASE_MEMORY_WHEN_IDLE="false",
            **extra_env,
        )
        env.pop("API_KEY", None)  # the benchmark clients send no key
        command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if args.arch == "demo":
            command.append("--demo")
        else:
            env["MODEL_ARCH"] = args.arch
            for option, variable in (
                ("checkpoint", "MODEL_CHECKPOINT"),
                ("vocab", "MODEL_VOCAB"),
                ("vocoder", "MODEL_VOCODER"),
            ):
                if getattr(args, option):
                    env[variable] = getattr(args, option)
        if args.device:
            env["DEVICE"] = args.device
        self.log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited ({self.process.returncode}); log: {self.workdir / 'server.log'}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server not ready after {timeout} s; log: {self.workdir / 'server.log'}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def machine_description() -> tuple[str, str]:
    model = platform.processor() or platform.machine()
    cores = str(os.cpu_count())
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        model = fields.get("Model name", model).strip()
        cores = fields.get("CPU(s)", cores).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return model, cores


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options every server-driving benchmark shares: request settings and how to start the server."""
    parser.add_argument("--nfe-step", type=int, default=32)
    parser.add_argument("--voice", default="main")
    parser.add_argument("--api-key", default=os.environ.get("API_KEY"))
    parser.add_argument("--arch", default="demo", help="demo, or a real architecture (F5TTS_Base, ...)")
    parser.add_argument("--checkpoint", help="for a started real-model server (MODEL_CHECKPOINT)")
    parser.add_argument("--vocab", help="for a started real-model server (MODEL_VOCAB)")
    parser.add_argument("--vocoder", help="for a started real-model server (MODEL_VOCODER)")
    parser.add_argument("--device", help="DEVICE for started servers")
    parser.add_argument("--ready-timeout", type=float, default=600.0)
    parser.add_argument("--note", help="a paragraph added to the markdown result (context, interpretation)")


def command_line(script: str) -> str:
    """This run's command for the result file; a --note is elided (it is in the result already)."""
    shown = list(sys.argv[1:])
    if "--note" in shown:
        index = shown.index("--note")
        shown[index : index + 2] = ["--note", "..."]
    return " ".join(["python", script, *(shlex.quote(arg) for arg in shown)])
