"""Slack settings, read from the environment and `.env`, refused at start when malformed."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from core.settings import Blank, EnvSettings, Listed, refuse_placeholder

Secret = Annotated[SecretStr | None, Blank]
Ids = Annotated[frozenset[str], NoDecode, Listed]  # `T1, T2`; empty means everyone


class SlackSettings(EnvSettings):
    """How to reach Slack and how the bot behaves there; see docs/slack.md."""

    bot_token: SecretStr = Field(alias="SLACK_BOT_TOKEN")
    app_token: Secret = Field(None, alias="SLACK_APP_TOKEN")
    signing_secret: Secret = Field(None, alias="SLACK_SIGNING_SECRET")
    api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    follow_threads: bool = Field(False, alias="SLACK_FOLLOW_THREADS")
    streaming: Literal["native", "update"] = Field("native", alias="SLACK_STREAMING")
    update_interval: float = Field(1.0, alias="SLACK_UPDATE_INTERVAL", ge=0)
    max_message_chars: int = Field(3900, alias="SLACK_MAX_MESSAGE_CHARS", ge=500, le=12000)
    allowed_teams: Ids = Field(frozenset(), alias="SLACK_ALLOWED_TEAMS")
    allowed_channels: Ids = Field(frozenset(), alias="SLACK_ALLOWED_CHANNELS")

    @field_validator("bot_token", "app_token", "signing_secret")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return refuse_placeholder(value)

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names with urljoin: without the slash the last segment is lost.
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _http_needs_secret(self) -> SlackSettings:
        if self.app_token is None and self.signing_secret is None:
            raise ValueError("SLACK_SIGNING_SECRET is required without SLACK_APP_TOKEN "
                             "(Events API over HTTP)")
        return self

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def allows(self, team: str | None, channel: str | None) -> bool:
        """Whether the workspace and (non-DM) channel are on the optional allowlists."""
        if self.allowed_teams and team not in self.allowed_teams:
            return False
        if not self.allowed_channels or not channel or channel.startswith("D"):
            return True
        return channel in self.allowed_channels
