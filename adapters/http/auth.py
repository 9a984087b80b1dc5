"""Bearer tokens: verifying JWTs (HS256 and optionally RS256), issuing HS256 ones for the CLI."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import jwt
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.http.settings import DEV_USER, HttpSettings, is_loopback
from core.errors import ConfigError
from core.keys import UserKey

_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SUBJECT = 128
LEEWAY_S = 30  # tolerated clock skew between the issuer and this server


class AuthError(Exception):
    """The request carries no usable credentials; answered with 401."""


def parse_ttl(text: str) -> int:
    """Seconds from `90`, `90s`, `30m`, `12h` or `7d`."""
    match = _TTL.match(text.lower())
    if not match or int(match.group(1)) < 1:
        raise ConfigError("--ttl", f"expected a duration like 30m, 12h or 7d, got {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def issue(settings: HttpSettings, user: str, ttl: int) -> str:
    """An HS256 token for `user`, signed with SWITCHBOARD_JWT_SECRET."""
    if settings.jwt_secret is None:
        raise ConfigError("SWITCHBOARD_JWT_SECRET", "is needed to issue tokens")
    if not 1 <= len(user) <= MAX_SUBJECT:
        raise ConfigError("--user", f"must be 1 to {MAX_SUBJECT} characters")
    now = int(time.time())
    claims = {"sub": user, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
              "iat": now, "exp": now + ttl}
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def _keys(settings: HttpSettings) -> dict[str, Any]:
    # One key per algorithm, so a token can never pick which key checks it (no alg confusion).
    keys: dict[str, Any] = {}
    if settings.jwt_secret is not None:
        keys["HS256"] = settings.jwt_secret.get_secret_value()
    if settings.jwt_public_key is not None:
        try:
            keys["RS256"] = jwt.algorithms.RSAAlgorithm(
                jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(settings.jwt_public_key)
        except (AttributeError, jwt.PyJWTError, ValueError) as exc:
            raise ConfigError("SWITCHBOARD_JWT_PUBLIC_KEY", "is not a usable RSA public key "
                              f"({type(exc).__name__}; RS256 needs the `cryptography` package)"
                              ) from None
    return keys


class Verifier:
    """Turns an `Authorization` header into the caller's `UserKey`, or raises `AuthError`."""

    bearer = HTTPBearer(auto_error=False, description="A JWT: `switchboard token --user NAME`")

    def __init__(self, settings: HttpSettings) -> None:
        self.settings, self.keys = settings, _keys(settings)

    def subject(self, token: str) -> str:
        """The verified `sub` claim of a token."""
        try:
            alg = str(jwt.get_unverified_header(token).get("alg"))
            key = self.keys.get(alg)
            if key is None:
                raise AuthError("unsupported token algorithm")
            claims = jwt.decode(token, key, algorithms=[alg], issuer=self.settings.jwt_issuer,
                                audience=self.settings.jwt_audience, leeway=LEEWAY_S,
                                options={"require": ["exp", "sub", "iss", "aud"]})
        except jwt.PyJWTError:
            raise AuthError("invalid or expired token") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not 1 <= len(subject) <= MAX_SUBJECT:
            raise AuthError("invalid token subject")
        return subject

    async def __call__(self, request: Request) -> UserKey:
        """FastAPI dependency: the authenticated caller."""
        credentials: HTTPAuthorizationCredentials | None = await self.bearer(request)
        if credentials is not None:
            return UserKey.of("api", self.subject(credentials.credentials))
        if request.headers.get("authorization") is None and self._local(request):
            return UserKey.of("api", DEV_USER)
        raise AuthError("missing bearer token")

    def _local(self, request: Request) -> bool:
        # Dev mode also checks the client, Host (DNS rebinding) and Origin (other sites' pages).
        if not self.settings.dev_mode or request.client is None:
            return False
        origin = request.headers.get("origin")
        return (is_loopback(request.client.host)
                and is_loopback(_hostname("//" + request.headers.get("host", "")))
                and (origin is None or is_loopback(_hostname(origin))))


def _hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
