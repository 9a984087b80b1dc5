"""Settings of the core, read from the environment and `.env`, refused at start when malformed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.attachments import Limits
from core.errors import ConfigError
from core.redis_modes import SCHEMES, SENTINEL_SCHEMES, parse_sentinel
from core.usage import Budget, parse_budget

DEFAULT_SYSTEM_PROMPT = (
    "You are Switchboard, a helpful, concise assistant. Answer in the language the user writes in. "
    "Use Markdown sparingly; it is converted for each chat platform."
)

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
            "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")
# Values copied from templates that must never reach a provider or a signer.
PLACEHOLDERS = frozenset({"changeme", "change-me", "changethis", "secret", "your-api-key",
                          "your_api_key", "xxx", "sk-xxx", "sk-...", "todo", "replace-me"})

# Name prefixes of models that take images, for SWITCHBOARD_VISION left unset.
VISION_MODELS = ("gpt-4o", "gpt-4.1", "gpt-5", "o3", "o4", "claude-", "gemini-", "llava")


@dataclass(frozen=True, slots=True)
class Rate:
    """A message budget: `count` messages per `period` seconds, with bursts up to `count`."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.match(text.lower())
        if not match or match.group(3) not in _PERIODS or int(match.group(1)) < 1:
            raise ValueError(f"expected a rate like 20/minute or 5/10s, got {text!r}")
        count, mult, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
        return cls(count, float(mult * _PERIODS[unit]))

    @property
    def interval_ms(self) -> int:
        return max(1, round(self.period * 1000 / self.count))


def _rate(value: Any) -> Rate:
    return value if isinstance(value, Rate) else Rate.parse(str(value))


def _blank_to_none(value: Any) -> Any:
    # `.env.example` leaves optional values empty; treat `KEY=` as unset.
    return None if isinstance(value, str) and not value.strip() else value


def _split(value: Any) -> Any:
    # Lists come as "a, b" (or "a; b") from the environment; blank means none.
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


# Shared by every settings class: `KEY=` is unset, and lists are comma-separated.
Blank = BeforeValidator(_blank_to_none)
Listed = BeforeValidator(_split)


def refuse_placeholder(value: SecretStr | None) -> SecretStr | None:
    """Reject secrets that are obviously copied from an example file."""
    if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDERS:
        raise ValueError("is a placeholder; set a real value or leave it unset")
    return value


class EnvSettings(BaseSettings):
    """Base of every settings class: environment first, then `.env`, unknown names ignored."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)


class CoreSettings(EnvSettings):
    """What the conversation core needs: model, store, limits."""

    openai_api_key: Annotated[SecretStr | None, Blank] = Field(
        None, alias="OPENAI_API_KEY")
    openai_base_url: Annotated[str | None, Blank] = Field(
        None, alias="OPENAI_BASE_URL")
    model: str = Field("gpt-4o-mini", alias="SWITCHBOARD_MODEL", min_length=1)
    system_prompt: str = Field(DEFAULT_SYSTEM_PROMPT, alias="SWITCHBOARD_SYSTEM_PROMPT")
    config_file: Annotated[Path | None, Blank] = Field(None, alias="SWITCHBOARD_CONFIG")
    redis_url: Annotated[SecretStr | None, Blank] = Field(
        None, alias="REDIS_URL")
    redis_mode: Literal["auto", "cluster", "standalone"] = Field(
        "auto", alias="SWITCHBOARD_REDIS_MODE")
    redis_wait_replicas: Annotated[int, Field(ge=0)] | Literal["auto"] = Field(
        "auto", alias="SWITCHBOARD_REDIS_WAIT_REPLICAS")
    data_dir: Path = Field(Path(".switchboard"), alias="SWITCHBOARD_DATA_DIR")
    redis_prefix: str = Field("sb:", alias="SWITCHBOARD_REDIS_PREFIX", min_length=1)
    history_ttl: int = Field(7 * 86400, alias="SWITCHBOARD_HISTORY_TTL", gt=0)
    rate_limit: Annotated[Rate, NoDecode, BeforeValidator(_rate)] = Field(
        Rate(20, 60.0), alias="SWITCHBOARD_RATE_LIMIT")
    token_budget: Annotated[Budget | None, NoDecode, BeforeValidator(parse_budget)] = Field(
        None, alias="SWITCHBOARD_TOKEN_BUDGET")
    # `shared`: a linked person's private chats (DMs, the CLI) on every platform are one
    # conversation; `separate`: each platform keeps its own.
    linked_dms: Literal["separate", "shared"] = Field("separate", alias="SWITCHBOARD_LINKED_DMS")
    max_input_chars: int = Field(4000, alias="SWITCHBOARD_MAX_INPUT_CHARS", gt=0)
    history_backend: Literal["redis", "langchain-redis"] = Field(
        "redis", alias="SWITCHBOARD_HISTORY_BACKEND")
    context_tokens: int = Field(3000, alias="SWITCHBOARD_CONTEXT_TOKENS", ge=200)
    history_max_messages: int = Field(200, alias="SWITCHBOARD_HISTORY_MAX_MESSAGES", ge=10)
    model_timeout: float = Field(60.0, alias="SWITCHBOARD_MODEL_TIMEOUT", gt=0)
    model_max_retries: int = Field(2, alias="SWITCHBOARD_MODEL_MAX_RETRIES", ge=0, le=5)
    # Turns answered at once per process; the rest wait their turn before taking any lock.
    max_turns: int = Field(64, alias="SWITCHBOARD_MAX_TURNS", ge=1)
    # Turns that may wait for one of those places; past it a turn is refused at once (about
    # 42 KB each, and a line this long already takes tens of seconds to move).
    max_waiting: int = Field(1000, alias="SWITCHBOARD_MAX_WAITING", ge=0)
    max_attachment_bytes: int = Field(
        20 * 1024 * 1024, alias="SWITCHBOARD_MAX_ATTACHMENT_BYTES", gt=0)
    max_attachments: int = Field(4, alias="SWITCHBOARD_MAX_ATTACHMENTS", gt=0)
    max_audio_seconds: float = Field(300.0, alias="SWITCHBOARD_MAX_AUDIO_SECONDS", gt=0)
    max_document_chars: int = Field(20_000, alias="SWITCHBOARD_MAX_DOCUMENT_CHARS", gt=0)
    vision: Annotated[bool | None, Blank] = Field(None, alias="SWITCHBOARD_VISION")
    transcribe_model: str = Field(
        "whisper-1", alias="SWITCHBOARD_TRANSCRIBE_MODEL", min_length=1)
    tool_timeout: float = Field(20.0, alias="SWITCHBOARD_TOOL_TIMEOUT", gt=0)
    tool_steps: int = Field(4, alias="SWITCHBOARD_TOOL_STEPS", ge=1, le=20)
    tool_output_chars: int = Field(4000, alias="SWITCHBOARD_TOOL_OUTPUT_CHARS", ge=100)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", alias="SWITCHBOARD_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", alias="SWITCHBOARD_LOG_FORMAT")
    # Off unless set: a gateway or polling bot opens no port of its own unasked.
    metrics_port: Annotated[int | None, Blank] = Field(
        None, alias="SWITCHBOARD_METRICS_PORT", ge=0, le=65535)
    metrics_host: str = Field("127.0.0.1", alias="SWITCHBOARD_METRICS_HOST", min_length=1)

    @field_validator("openai_api_key")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return refuse_placeholder(value)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        url = value.get_secret_value() if value is not None else ""
        if value is not None and not url.startswith(SCHEMES):
            raise ValueError("must start with redis://, rediss://, unix://, redis+sentinel:// "
                             "or rediss+sentinel://")
        if url.startswith(SENTINEL_SCHEMES):
            parse_sentinel(url)  # its ValueError names the part that is wrong, never a secret
        return value

    @property
    def limits(self) -> Limits:
        """What one turn may carry; vision unset follows the model's name."""
        sees = self.vision if self.vision is not None else sees_images(
            self.model, offline=self.openai_api_key is None)
        return Limits(self.max_attachment_bytes, self.max_attachments, self.max_audio_seconds,
                      self.max_document_chars, sees)


def sees_images(model: str, *, offline: bool = False) -> bool:
    """Whether a model is known to take images; a provider prefix (`openai/gpt-4o`) is ignored."""
    name = model.rsplit("/", 1)[-1].strip().lower()
    return offline or name.startswith(VISION_MODELS)


S = TypeVar("S", bound=EnvSettings)


def load(cls: type[S], **overrides: Any) -> S:
    """Build settings or raise one `ConfigError` naming the first bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        info = cls.model_fields.get(field)
        variable = (info.alias if info and info.alias else field).upper()
        raise ConfigError(variable, first["msg"].removeprefix("Value error, ")) from None
