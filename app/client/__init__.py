"""Python clients for f5-tts-vi: the REST service and the RunPod worker (docs/client.md)."""

from app.client.errors import APIError, JobFailedError, JobTimeoutError, NoAudioError, TTSClientError
from app.client.rest import AsyncTTSClient, TTSClient
from app.client.runpod import AsyncRunPodTTSClient, RunPodTTSClient, tts_input

__all__ = [
    "APIError",
    "AsyncRunPodTTSClient",
    "AsyncTTSClient",
    "JobFailedError",
    "JobTimeoutError",
    "NoAudioError",
    "RunPodTTSClient",
    "TTSClient",
    "TTSClientError",
    "tts_input",
]
