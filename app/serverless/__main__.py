"""``python -m app.serverless [SDK flags]``: start the RunPod worker.

SDK flags pass through, e.g. ``--rp_serve_api --rp_api_port 8010
--rp_api_host 127.0.0.1`` for the SDK's local test server (/run, /runsync,
/status). The service must be reachable at ``TTS_SERVICE_URL``; the launcher
(``python -m app.serverless.launcher worker``) starts it first.
"""

from __future__ import annotations

import logging
import os
import signal
import sys


def configure_logging() -> None:
    level = os.environ.get("WORKER_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO"
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # One line per request to the local service would drown the job events.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _stop_requested(signum: int, _frame: object) -> None:
    # uvicorn (``--rp_serve_api``) re-raises the signal it caught once it has
    # shut down; with the default action the process would die right there,
    # before the pending download confirmations are waited for.
    logging.getLogger("app.serverless").info("worker.signal %d: stopping", signum)


def main() -> int:
    configure_logging()
    # The SDK logs every handler output at DEBUG (audio_base64 included).
    os.environ.setdefault("RUNPOD_LOG_LEVEL", "INFO")
    signal.signal(signal.SIGTERM, _stop_requested)
    import runpod

    from app.serverless.handler import TTSHandler

    handler = TTSHandler()
    logger = logging.getLogger("app.serverless")
    logger.info(
        "worker.start service=%s concurrency=%d s3=%s public=%s",
        handler.settings.service_url,
        handler.settings.concurrency,
        handler.settings.s3_enabled,
        handler.settings.client_base_url(),
    )
    try:
        runpod.serverless.start(
            {
                "handler": handler.handle,
                "concurrency_modifier": handler.concurrency_modifier,
            }
        )
    finally:
        handler.shutdown()
        logger.info("worker.stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
