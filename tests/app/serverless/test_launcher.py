"""The container entry point, run exactly as the Dockerfile runs it:
``python -m app.serverless.launcher worker|healthcheck|bake-weights``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from app.client import APIError, RunPodTTSClient, TTSClient, tts_input
from app.serverless.launcher import WEIGHT_FILES, weights_env
from app.serverless.launcher import main as launcher_main
from tests.app.serverless.conftest import Running
from tests.app.serverless.procs import (
    Proc,
    children_of,
    free_port,
    pid_alive,
    service_env,
    spawn,
    wait_worker,
)

LAUNCHER = [sys.executable, "-m", "app.serverless.launcher"]


def start_launcher(root: Path, **extra: str) -> tuple[Proc, str]:
    service_port, worker_port = free_port(), free_port()
    env = service_env(
        root,
        SERVICE_PORT=str(service_port),
        SERVICE_HOST="127.0.0.1",
        WEIGHTS_DIR=str(root / "no-weights"),
        WORKER_POLL_INTERVAL_SECONDS="0.1",
        WORKER_CONFIRMATION_POLL_SECONDS="0.1",
        UVICORN_LOG_LEVEL="warning",
        **extra,
    )
    cmd = [*LAUNCHER, "worker", "--demo", "--", "--rp_serve_api", "--rp_api_port", str(worker_port),
           "--rp_api_host", "127.0.0.1"]  # fmt: skip
    proc = spawn("launcher", cmd, env, root / "logs")
    url = f"http://127.0.0.1:{worker_port}"
    try:
        wait_worker(proc, url, timeout=60)
    except Exception:
        proc.stop()
        raise
    return proc, url


def test_worker_mode_serves_jobs_and_sigterm_waits_for_the_download_confirmation(tmp_path: Path) -> None:
    launcher, url = start_launcher(tmp_path, WORKER_CONFIRMATION_TIMEOUT_SECONDS="30")
    try:
        children = children_of(launcher.pid)
        assert len(children) == 2  # service + worker
        with RunPodTTSClient(url) as rp:
            answer = rp.runsync(tts_input("Chào từ launcher", job_id="launch-1", nfe_step=4))
            assert answer["status"] == "COMPLETED", answer
            output = answer["output"]
            assert output["download_url"].startswith("http://127.0.0.1:")  # TTS_SERVICE_URL set by the launcher

            launcher.signal(signal.SIGTERM)
            assert launcher.wait_log("waiting for 1 download confirmation(s) (launch-1)", timeout=10)
            time.sleep(0.5)
            # The worker drains, and the service it downloads from is still up.
            assert launcher.alive()
            assert rp.fetch_audio({"download_url": output["download_url"]})
            rp.confirm(output)
            confirmed_at = time.monotonic()
        launcher.popen.wait(timeout=30)
        assert launcher.popen.returncode == 0
        assert time.monotonic() - confirmed_at < 15
        assert "confirmation.received job_id=launch-1" in launcher.log()
        assert not any(pid_alive(pid) for pid in children)
    finally:
        launcher.stop()


def test_the_service_dying_mid_job_fails_the_job_and_stops_the_container(tmp_path: Path) -> None:
    launcher, url = start_launcher(tmp_path, WORKER_SERVICE_RETRY_SECONDS="2")
    try:
        service_pid, worker_pid = children_of(launcher.pid)
        service_url = re.search(r"worker\.start service=(http://\S+)", launcher.log())
        assert service_url is not None
        answers: list[dict[str, Any]] = []
        long_text = " ".join(["Xin chào các bạn, hôm nay trời đẹp quá, chúng ta cùng đi chơi nhé."] * 3)
        with RunPodTTSClient(url) as rp:
            submitted = rp.run(tts_input(long_text, job_id="dies-1", nfe_step=128))
            # The local test server runs the job inside the /status call.
            waiting = threading.Thread(target=lambda: answers.append(rp.status(submitted["id"])))
            waiting.start()
            with TTSClient(service_url.group(1)) as tts:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        if tts.progress("dies-1")["status"] == "processing":
                            break
                    except (httpx.HTTPError, APIError):
                        pass  # not submitted yet
                    time.sleep(0.05)
                assert tts.progress("dies-1")["status"] == "processing"
            os.kill(service_pid, signal.SIGKILL)
            waiting.join(timeout=30)
        assert not waiting.is_alive()
        # The job fails once the retry budget is spent ...
        assert answers[0]["status"] == "FAILED"
        assert answers[0]["error"].startswith("service_unavailable: ")
        assert "did not answer for 2 s" in answers[0]["error"]
        # ... and the container stops (non-zero) so RunPod replaces it.
        launcher.popen.wait(timeout=30)
        assert launcher.popen.returncode != 0
        assert "the service died" in launcher.log()
        assert not pid_alive(worker_pid)
    finally:
        launcher.stop()


def test_the_launcher_exits_non_zero_when_the_service_cannot_start(tmp_path: Path) -> None:
    env = service_env(
        tmp_path,
        SERVICE_PORT=str(free_port()),
        SERVICE_HOST="127.0.0.1",
        MODEL_CHECKPOINT=str(tmp_path / "missing.safetensors"),
        MODEL_VOCAB=str(tmp_path / "missing.txt"),
        WEIGHTS_DIR=str(tmp_path / "no-weights"),
    )
    proc = spawn("launcher", [*LAUNCHER, "worker"], env, tmp_path / "logs")  # no --demo: real weights, missing
    try:
        proc.popen.wait(timeout=60)
        assert proc.popen.returncode == 1
        assert "exited with code 1 before it was ready" in proc.log()
    finally:
        proc.stop()


def test_the_launcher_gives_up_when_the_service_is_never_ready(tmp_path: Path) -> None:
    env = service_env(tmp_path, SERVICE_PORT=str(free_port()), SERVICE_HOST="127.0.0.1", READY_TIMEOUT_SECONDS="0.5")
    proc = spawn("launcher", [*LAUNCHER, "worker", "--demo"], env, tmp_path / "logs")
    try:
        proc.popen.wait(timeout=60)
        assert proc.popen.returncode == 1
        assert "not ready after 0 s" in proc.log() or "not ready after 1 s" in proc.log()
    finally:
        proc.stop()


def test_healthcheck_command(service: Running) -> None:
    ok = subprocess.run([*LAUNCHER, "healthcheck", "--url", f"{service.url}/health"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    closed = subprocess.run(
        [*LAUNCHER, "healthcheck", "--url", f"http://127.0.0.1:{free_port()}/health", "--timeout", "1"],
        capture_output=True,
        text=True,
    )
    assert closed.returncode == 1
    assert "ConnectionRefused" in closed.stdout or "Errno 111" in closed.stdout


def _demo_checkpoint(root: Path) -> tuple[Path, Path]:
    """A training-style pickle and vocab for the demo architecture."""
    from f5_tts.loading import build_random_model, demo_vocab

    model = build_random_model("demo", seed=3)
    ckpt = root / "model_last.pt"
    state = {f"ema_model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"ema_model_state_dict": state, "step": torch.tensor(1)}, ckpt)
    vocab = root / "config.json"  # the hub repo names its vocab file this way
    vocab.write_text("\n".join(demo_vocab().tokens) + "\n", encoding="utf-8")
    return ckpt, vocab


def test_bake_weights_writes_fp16_safetensors_the_service_can_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from f5_tts.loading import load_model

    ckpt, vocab = _demo_checkpoint(tmp_path)
    vocoder = tmp_path / "vocos-src"
    vocoder.mkdir()
    (vocoder / "config.yaml").write_text("feature_extractor: {}\n")
    (vocoder / "pytorch_model.bin").write_bytes(b"\0" * 16)
    dest = tmp_path / "models"
    # In-process, the very function the Dockerfile's RUN step calls.
    code = launcher_main(
        ["bake-weights", "--dest", str(dest), "--checkpoint", str(ckpt), "--vocab", str(vocab),
         "--vocoder", str(vocoder), "--dtype", "fp16"]
    )  # fmt: skip
    assert code == 0
    assert "total" in capsys.readouterr().out
    for name in WEIGHT_FILES.values():
        assert (dest / name).exists()
    model = load_model(dest / "model.safetensors", dest / "vocab.txt", arch="demo", device="cpu", dtype="float16")
    assert next(model.transformer.parameters()).dtype == torch.float16
    # The launcher points the service at them, unless MODEL_* are set.
    assert weights_env({}, dest) == {
        "MODEL_CHECKPOINT": str(dest / "model.safetensors"),
        "MODEL_VOCAB": str(dest / "vocab.txt"),
        "MODEL_VOCODER": str(dest / "vocos"),
    }
    assert weights_env({"MODEL_CHECKPOINT": "/elsewhere.pt"}, dest) == {
        "MODEL_VOCAB": str(dest / "vocab.txt"),
        "MODEL_VOCODER": str(dest / "vocos"),
    }
    assert weights_env({}, tmp_path / "empty") == {}


@pytest.mark.parametrize("argv", [["worker", "--help"], ["serve", "--help"], ["bake-weights", "--help"]])
def test_launcher_commands_have_help(argv: list[str]) -> None:
    done = subprocess.run([*LAUNCHER, *argv], capture_output=True, text=True)
    assert done.returncode == 0
    assert "usage: python -m app.serverless.launcher" in done.stdout
