"""Settings of the HTTP API: where it listens and how it checks bearer tokens."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator

from core.errors import ConfigError
from core.settings import Blank, EnvSettings, refuse_placeholder

MIN_SECRET_BYTES = 32
DEV_USER = "dev"


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses, the only hosts dev mode accepts."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HttpSettings(EnvSettings):
    """`switchboard run http`: listening address, JWT keys, issuer and audience."""

    host: str = Field("127.0.0.1", alias="SWITCHBOARD_HTTP_HOST", min_length=1)
    port: int = Field(8000, alias="SWITCHBOARD_HTTP_PORT", ge=0, le=65535)
    jwt_secret: Annotated[SecretStr | None, Blank] = Field(
        None, alias="SWITCHBOARD_JWT_SECRET")
    jwt_public_key: Annotated[str | None, Blank] = Field(
        None, alias="SWITCHBOARD_JWT_PUBLIC_KEY")
    jwt_issuer: str = Field("switchboard", alias="SWITCHBOARD_JWT_ISSUER", min_length=1)
    jwt_audience: str = Field("switchboard-api", alias="SWITCHBOARD_JWT_AUDIENCE", min_length=1)

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        value = refuse_placeholder(value)
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes; generate one with "
                             "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        return value

    @field_validator("jwt_public_key")
    @classmethod
    def _read_key(cls, value: str | None) -> str | None:
        # Either the PEM text itself or a path to a PEM file (read once, at start).
        if value is None or value.lstrip().startswith("-----BEGIN"):
            return value
        try:
            return Path(value).expanduser().read_text()
        except OSError as exc:
            raise ValueError(f"is neither a PEM key nor a readable file ({exc.strerror})") from None

    @property
    def dev_mode(self) -> bool:
        """No key at all on a loopback address: requests without a token act as `dev`."""
        return self.jwt_secret is None and self.jwt_public_key is None and is_loopback(self.host)

    def check(self) -> None:
        """Refuse to expose the API beyond loopback without a way to check tokens."""
        if self.jwt_secret is None and self.jwt_public_key is None and not self.dev_mode:
            raise ConfigError("SWITCHBOARD_JWT_SECRET", "required when SWITCHBOARD_HTTP_HOST "
                              f"({self.host}) is not a loopback address")
