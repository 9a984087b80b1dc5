"""Settings of the Telegram adapter, read from `TELEGRAM_*` variables."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from core.settings import Blank, EnvSettings, refuse_placeholder

DEFAULT_API_URL = "https://api.telegram.org/bot"
API_SUFFIX, FILE_SUFFIX = "/bot", "/file/bot"  # PTB appends the token to both
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as a webhook secret


def _names(value: Any) -> frozenset[str]:
    # "12345, @alice bob" -> {"12345", "alice", "bob"}; usernames compare case-insensitively.
    items = value if isinstance(value, list | tuple | set | frozenset) \
        else str(value or "").replace(",", " ").split()
    return frozenset(str(i).strip().lstrip("@").lower() for i in items if str(i).strip())


def file_url_of(api_url: str) -> str:
    """The file URL of a Bot API server, from its method URL: `https://h/bot` -> `https://h/file/bot`.

    A URL of another shape cannot be guessed safely: TELEGRAM_FILE_URL must then be set.
    """
    base = api_url.rstrip("/")
    if not base.endswith(API_SUFFIX):
        raise ValueError("TELEGRAM_FILE_URL is required when TELEGRAM_API_URL does not end "
                         f"in {API_SUFFIX}")
    return base.removesuffix(API_SUFFIX) + FILE_SUFFIX


class TelegramSettings(EnvSettings):
    """Bot token, where the Bot API is, polling or webhook, and who may talk to the bot."""

    token: SecretStr = Field(alias="TELEGRAM_BOT_TOKEN")
    api_url: str = Field(DEFAULT_API_URL, alias="TELEGRAM_API_URL", min_length=1)
    # Where files are downloaded from; by default the Bot API's own host (`…/bot` -> `…/file/bot`)
    # so that the token never goes to another host than TELEGRAM_API_URL's.
    file_url: Annotated[str | None, Blank] = Field(None, alias="TELEGRAM_FILE_URL")
    webhook_url: Annotated[str | None, Blank] = Field(
        None, alias="TELEGRAM_WEBHOOK_URL")
    webhook_secret: Annotated[SecretStr | None, Blank] = Field(
        None, alias="TELEGRAM_WEBHOOK_SECRET")
    allowed_users: Annotated[frozenset[str], NoDecode, BeforeValidator(_names)] = Field(
        frozenset(), alias="TELEGRAM_ALLOWED_USERS")
    shared_groups: bool = Field(False, alias="TELEGRAM_SHARED_GROUPS")
    edit_interval: float = Field(1.0, alias="TELEGRAM_EDIT_INTERVAL", ge=0)
    poll_timeout: int = Field(30, alias="TELEGRAM_POLL_TIMEOUT", ge=0, le=50)

    @field_validator("token")
    @classmethod
    def _real_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty; get a token from @BotFather")
        refuse_placeholder(value)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return refuse_placeholder(value)

    @model_validator(mode="after")
    def _file_url_known(self) -> TelegramSettings:
        if self.file_url is None:
            file_url_of(self.api_url)  # refused at start, not at the first file
        return self

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> TelegramSettings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set")
        return self

    def allows(self, user_id: int, username: str | None) -> bool:
        """Everyone when no allow-list is set; else listed ids or usernames only."""
        if not self.allowed_users:
            return True
        return str(user_id) in self.allowed_users or \
            (username or "").lower() in self.allowed_users

    @property
    def files_url(self) -> str:
        """PTB's `base_file_url`: TELEGRAM_FILE_URL, or the one derived from TELEGRAM_API_URL."""
        return self.file_url or file_url_of(self.api_url)
