"""Settings of the Discord adapter, read from the environment like every other setting."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from discord.http import INTERNAL_API_VERSION
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from core.settings import Blank, EnvSettings, Listed, refuse_placeholder

MESSAGE_LIMIT = 2000  # Discord refuses longer `content`


def _url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is not None and not value.startswith(schemes):
        raise ValueError(f"must be a {' or '.join(schemes)} URL")
    return value.rstrip("/") if value else value


IdList = Annotated[frozenset[int], NoDecode, Listed]
Optional = Blank


class DiscordSettings(EnvSettings):
    """Token, addresses, allowlists, sharding and streaming pace of the Discord bot."""

    token: SecretStr = Field(alias="DISCORD_BOT_TOKEN", min_length=1)
    api_url: Annotated[str | None, Optional] = Field(None, alias="DISCORD_API_URL")
    gateway_url: Annotated[str | None, Optional] = Field(None, alias="DISCORD_GATEWAY_URL")
    allowed_guilds: IdList = Field(frozenset(), alias="DISCORD_ALLOWED_GUILDS")
    allowed_channels: IdList = Field(frozenset(), alias="DISCORD_ALLOWED_CHANNELS")
    shared_channels: IdList = Field(frozenset(), alias="DISCORD_SHARED_CHANNELS")
    allow_dms: bool = Field(True, alias="DISCORD_ALLOW_DMS")
    shard_count: Annotated[int | None, Optional] = Field(None, alias="DISCORD_SHARD_COUNT", gt=0)
    shard_ids: Annotated[tuple[int, ...], NoDecode, Listed] = Field(
        (), alias="DISCORD_SHARD_IDS")
    sharded: bool = Field(False, alias="DISCORD_AUTO_SHARD")
    edit_interval: float = Field(1.0, alias="DISCORD_EDIT_INTERVAL", ge=0)
    guild_ready_timeout: float = Field(2.0, alias="DISCORD_GUILD_READY_TIMEOUT", ge=0)
    sync_commands: bool = Field(True, alias="DISCORD_SYNC_COMMANDS")

    @field_validator("token")
    @classmethod
    def _no_placeholder(cls, value: SecretStr) -> SecretStr:
        checked = refuse_placeholder(value)
        assert checked is not None
        return checked

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        url = _url(value, ("http://", "https://"))
        # A bare proxy address gets the API path discord.py's routes expect after the base.
        if url and not urlsplit(url).path:
            url += f"/api/v{INTERNAL_API_VERSION}"
        return url

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, value: str | None) -> str | None:
        return _url(value, ("ws://", "wss://"))

    @field_validator("shard_ids")
    @classmethod
    def _shards_need_count(cls, value: tuple[int, ...], info: Any) -> tuple[int, ...]:
        count = info.data.get("shard_count")
        if value and count is None:
            raise ValueError("needs DISCORD_SHARD_COUNT too")
        if count is not None and any(not 0 <= shard < count for shard in value):
            raise ValueError(f"every id must be between 0 and DISCORD_SHARD_COUNT-1 ({count - 1})")
        return value

    @property
    def sharding(self) -> bool:
        """Use `AutoShardedClient`: asked for, or a shard count or shard ids given."""
        return self.sharded or self.shard_count is not None or bool(self.shard_ids)
