"""Optional API key: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

When ``API_KEY`` is unset every request passes. The comparison is
constant-time so the key cannot be guessed byte by byte from response times.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.core.errors import UnauthorizedError

# auto_error=False: missing credentials reach our check, which answers with our
# JSON error shape. Declaring both schemes puts an "Authorize" button in /docs.
bearer_scheme = HTTPBearer(auto_error=False, description="API key as a bearer token")
api_key_header_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def key_matches(expected: str, presented: str | None) -> bool:
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def check_api_key(expected: str | None, bearer: str | None, header_key: str | None) -> None:
    if expected is None:
        return
    # Evaluate both so the time taken does not reveal which header was tried.
    bearer_ok = key_matches(expected, bearer)
    header_ok = key_matches(expected, header_key)
    if not (bearer_ok or header_ok):
        raise UnauthorizedError()


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    header_key: Annotated[str | None, Depends(api_key_header_scheme)],
) -> None:
    """FastAPI dependency for every protected router."""
    settings = request.app.state.settings
    expected = settings.api_key.get_secret_value() if settings.api_key is not None else None
    check_api_key(expected, credentials.credentials if credentials else None, header_key)
