"""Container entry point (docker/Dockerfile runs it; the tests run the same file).

    python -m app.serverless.launcher worker [--demo] [-- WORKER_ARGS...]
        RunPod queue worker: start the service, wait until /health says ok
        (exit 1 if it dies or is not ready in READY_TIMEOUT_SECONDS), then start
        ``python -m app.serverless WORKER_ARGS``. SIGTERM/SIGINT go to the worker
        first (it waits for pending download confirmations), then the service.
        If either child dies the other is stopped and the launcher exits non-zero
        (service) or with the worker's code.
    python -m app.serverless.launcher serve [--demo]
        RunPod load-balancing endpoint / plain service: the FastAPI app on
        0.0.0.0:$PORT (GET /ping for the balancer), exec'd in place.
    python -m app.serverless.launcher healthcheck [--url URL]
        Docker HEALTHCHECK: exit 0 when GET /health answers 200 with status ok.
    python -m app.serverless.launcher bake-weights --dest DIR [...]
        Build step: fp16 safetensors + vocab + vocoder into DIR (WEIGHTS_DIR at
        run time), so the image starts without downloading anything.

Environment: SERVICE_HOST (0.0.0.0), SERVICE_PORT (8000; ``serve`` uses PORT),
READY_TIMEOUT_SECONDS (900), WORKER_STOP_TIMEOUT_SECONDS (confirmation timeout
+ 20), SERVICE_STOP_TIMEOUT_SECONDS (40), WEIGHTS_DIR (/models), and whatever
the service and the worker read themselves.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from app.core.config import DEFAULT_CHECKPOINT, DEFAULT_VOCAB, DEFAULT_VOCODER

logger = logging.getLogger("app.serverless.launcher")

WEIGHT_FILES = {"model_checkpoint": "model.safetensors", "model_vocab": "vocab.txt", "model_vocoder": "vocos"}

# The service's entry point, run with this interpreter (no reliance on PATH).
SERVICE_ENTRY = "import sys; from app.cli import main; sys.exit(main())"


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def service_command(host: str, port: int, demo: bool) -> list[str]:
    cmd = [sys.executable, "-c", SERVICE_ENTRY, "serve", "--host", host, "--port", str(port)]
    if demo:
        cmd.append("--demo")
    return cmd


def weights_env(environ: dict[str, str], weights_dir: Path) -> dict[str, str]:
    """Point the service at baked or mounted weights (WEIGHTS_DIR) unless MODEL_* are set."""
    found: dict[str, str] = {}
    if not (weights_dir / WEIGHT_FILES["model_checkpoint"]).is_file():
        return found
    for setting, name in WEIGHT_FILES.items():
        key = setting.upper()
        path = weights_dir / name
        if not environ.get(key) and path.exists():
            found[key] = str(path)
    return found


def health(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """(ready, detail) from GET url: ready when 200 and status ok."""
    request = urllib.request.Request(url, headers={"User-Agent": "f5-tts-vi-launcher"})
    api_key = os.environ.get("API_KEY")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    try:
        data: Any = json.loads(body or b"{}")
    except ValueError:
        data = {}
    state = data.get("status") if isinstance(data, dict) else None
    if status == 200 and state in (None, "ok", "healthy", "ready"):
        return True, "ok"
    return False, f"HTTP {status} status={state}"


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    detail = "not tried"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            logger.error("launcher: the service exited with code %s before it was ready", proc.returncode)
            return False
        ready, detail = health(url)
        if ready:
            return True
        time.sleep(interval)
    logger.error("launcher: the service was not ready after %.0f s (%s)", timeout, detail)
    return False


def stop(proc: subprocess.Popen[bytes], timeout: float, name: str) -> int | None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL."""
    if proc.poll() is None:
        logger.info("launcher: stopping the %s (pid %d)", name, proc.pid)
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.warning("launcher: the %s did not stop in %.0f s, killing it", name, timeout)
            proc.kill()
            proc.wait()
    return proc.returncode


class _Stop:
    requested = False
    signum = 0

    @classmethod
    def handler(cls, signum: int, _frame: Any) -> None:
        cls.requested = True
        cls.signum = signum


def run_worker(args: argparse.Namespace) -> int:
    host = os.environ.get("SERVICE_HOST", "0.0.0.0")
    port = int(os.environ.get("SERVICE_PORT", "8000"))
    local_url = f"http://127.0.0.1:{port}"
    ready_timeout = _env_float("READY_TIMEOUT_SECONDS", 900.0)
    confirmation = _env_float("WORKER_CONFIRMATION_TIMEOUT_SECONDS", 60.0)
    worker_stop = _env_float("WORKER_STOP_TIMEOUT_SECONDS", confirmation + 20.0)
    service_stop = _env_float("SERVICE_STOP_TIMEOUT_SECONDS", 40.0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _Stop.handler)

    service_env = dict(os.environ)
    service_env.update(weights_env(service_env, Path(os.environ.get("WEIGHTS_DIR", "/models"))))
    # The worker sends the completion webhook (it knows RunPod's job id and
    # the public URLs); the service must not send a second one.
    service_env.pop("NEXTJS_WEBHOOK_URL", None)
    service = subprocess.Popen(service_command(host, port, args.demo), env=service_env)
    logger.info("launcher: service pid %d on %s:%d", service.pid, host, port)

    if not wait_ready(f"{local_url}/health", service, ready_timeout) or _Stop.requested:
        stop(service, service_stop, "service")
        return 0 if _Stop.requested else 1
    logger.info("launcher: service ready, starting the worker")

    worker_env = dict(os.environ)
    worker_env.setdefault("TTS_SERVICE_URL", local_url)
    worker = subprocess.Popen([sys.executable, "-m", "app.serverless", *args.worker_args], env=worker_env)
    logger.info("launcher: worker pid %d", worker.pid)

    code = 0
    while True:
        if _Stop.requested:
            logger.info("launcher: signal %d, stopping the worker first", _Stop.signum)
            stop(worker, worker_stop, "worker")
            stop(service, service_stop, "service")
            return 0
        if service.poll() is not None:
            logger.error("launcher: the service died (code %s); stopping the worker", service.returncode)
            stop(worker, 10.0, "worker")
            return service.returncode or 1
        if worker.poll() is not None:
            code = worker.returncode
            logger.info("launcher: the worker exited (code %s); stopping the service", code)
            stop(service, service_stop, "service")
            return code
        time.sleep(0.2)


def run_serve(args: argparse.Namespace) -> int:
    port = int(os.environ.get("PORT", os.environ.get("SERVICE_PORT", "8000")))
    host = os.environ.get("SERVICE_HOST", "0.0.0.0")
    os.environ.update(weights_env(dict(os.environ), Path(os.environ.get("WEIGHTS_DIR", "/models"))))
    cmd = service_command(host, port, args.demo)
    os.execv(cmd[0], cmd)  # replaces this process: signals reach uvicorn directly
    return 0  # pragma: no cover


def run_healthcheck(args: argparse.Namespace) -> int:
    port = os.environ.get("SERVICE_PORT") or os.environ.get("PORT") or "8000"
    url = args.url or f"http://127.0.0.1:{port}/health"
    ready, detail = health(url, timeout=args.timeout)
    print(f"{url}: {detail}")
    return 0 if ready else 1


def bake_weights(dest: Path, checkpoint: str, vocab: str, vocoder: str, dtype: str) -> dict[str, Path]:
    """Write DEST/model.safetensors (EMA weights, cast), DEST/vocab.txt, DEST/vocos/."""
    import torch

    from f5_tts.checkpoint import convert_checkpoint, resolve_path

    dest.mkdir(parents=True, exist_ok=True)
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    model = convert_checkpoint(checkpoint, dest / WEIGHT_FILES["model_checkpoint"], dtypes[dtype])
    vocab_path = dest / WEIGHT_FILES["model_vocab"]
    shutil.copyfile(resolve_path(vocab), vocab_path)
    vocoder_dir = dest / WEIGHT_FILES["model_vocoder"]
    source = Path(vocoder).expanduser()
    if source.is_dir():
        shutil.copytree(source, vocoder_dir, dirs_exist_ok=True)
    else:
        from huggingface_hub import snapshot_download

        snapshot_download(repo_id=vocoder, local_dir=vocoder_dir, allow_patterns=["config.yaml", "pytorch_model.bin"])
    for required in ("config.yaml", "pytorch_model.bin"):
        if not (vocoder_dir / required).is_file():
            raise FileNotFoundError(f"vocoder folder {vocoder_dir} lacks {required}")
    return {"model": model, "vocab": vocab_path, "vocoder": vocoder_dir}


def run_bake(args: argparse.Namespace) -> int:
    written = bake_weights(Path(args.dest), args.checkpoint, args.vocab, args.vocoder, args.dtype)
    total = sum(
        f.stat().st_size for p in written.values() for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()
    )
    for name, path in written.items():
        print(f"{name}: {path}")
    print(f"total {total / 1e6:.1f} MB")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.serverless.launcher", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="service + RunPod worker (queue endpoint)")
    worker.add_argument("--demo", action="store_true", help="serve the tiny demo model")
    worker.add_argument("worker_args", nargs=argparse.REMAINDER, help="passed to python -m app.serverless")
    serve = sub.add_parser("serve", help="the service alone on $PORT (load-balancing endpoint)")
    serve.add_argument("--demo", action="store_true")
    check = sub.add_parser("healthcheck", help="exit 0 when the service is healthy")
    check.add_argument("--url")
    check.add_argument("--timeout", type=float, default=5.0)
    bake = sub.add_parser("bake-weights", help="fetch and convert weights into a folder")
    bake.add_argument("--dest", required=True)
    bake.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT)
    bake.add_argument("--vocab", default=DEFAULT_VOCAB)
    bake.add_argument("--vocoder", default=DEFAULT_VOCODER)
    bake.add_argument("--dtype", choices=["fp16", "bf16", "fp32"], default="fp16")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    args = build_parser().parse_args(argv)
    if getattr(args, "worker_args", None) and args.worker_args[0] == "--":
        args.worker_args = args.worker_args[1:]
    handlers = {"worker": run_worker, "serve": run_serve, "healthcheck": run_healthcheck, "bake-weights": run_bake}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
