"""RunPod serverless worker: ``python -m app.serverless`` (docs/runpod.md).

Each worker container runs the service and this worker; the worker's async
handler turns RunPod jobs into service jobs over HTTP. The launcher
(``python -m app.serverless.launcher``) starts both.
"""
