"""The optional configuration file: presets and their prices, personas, MCP servers, roles.

`SWITCHBOARD_CONFIG` names a TOML file; pydantic-settings reads it, and variables such as
`SWITCHBOARD_MODELS__SMART__MODEL` still override it. Keys live in the environment: a preset
names the variable (`api_key_env`), never the key. With no file, one `default` preset and
persona come from the usual settings, so everything works as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError
from core.usage import Budget

NAME = r"^[A-Za-z0-9_.-]{1,40}$"
DEFAULT = "default"


class Prices(BaseModel):
    """What a preset's model costs, per million tokens in (prompt) and out (completion)."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    currency: str = Field("USD", pattern=r"^[A-Za-z$€£¥]{1,8}$")


class Preset(BaseModel):
    """A named model; what it leaves out comes from the environment's settings."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1)
    base_url: str | None = None
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    temperature: float | None = Field(None, ge=0, le=2)
    vision: bool | None = None
    context_tokens: int | None = Field(None, ge=200)
    fallbacks: list[str] = Field(default_factory=list)
    description: str = ""
    prices: Prices | None = None  # None: its tokens are not priced


class Persona(BaseModel):
    """A named system prompt; the speaker line is added to it as for the default one."""

    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1)
    description: str = ""


class McpServer(BaseModel):
    """One MCP server: a command run over stdio, or a streamable HTTP URL."""

    model_config = ConfigDict(extra="forbid")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    write_tools: list[str] = Field(default_factory=list)  # need the user's confirmation

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either `command` (stdio) or `url` (streamable HTTP)")
        return self


class Access(BaseModel):
    """Which presets and personas a platform (or `platform:workspace`) may choose."""

    model_config = ConfigDict(extra="forbid")
    models: list[str] | None = None  # None: all of them
    personas: list[str] | None = None


class Role(BaseModel):
    """A role's token budget (`unlimited`, `20000/day`...) and its members: platform user ids
    (`telegram:123`, `slack:T1:U1`, `api:alice`) or platform facts (`slack:admin:T1`,
    `discord:role:ROLE_ID`, `telegram:admin:CHAT_ID`; see core/roles.py)."""

    model_config = ConfigDict(extra="forbid")
    budget: str | None = None  # None: the role leaves the budget as it is
    members: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _budget_parses(self) -> Self:
        self.limits()
        return self

    def limits(self) -> Budget | None:
        """The role's budget: `Budget()` (no limit) for `unlimited`, None when it sets none."""
        if self.budget is None:
            return None
        if self.budget.strip().lower() == "unlimited":
            return Budget()
        return Budget.parse(self.budget) or Budget()


class ConfigFile(BaseSettings):
    """The file's tables; each name is what `/model NAME` and `/persona NAME` take."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", env_nested_delimiter="__",
                                      extra="forbid")
    models: dict[str, Preset] = Field(default_factory=dict)
    personas: dict[str, Persona] = Field(default_factory=dict)
    mcp: dict[str, McpServer] = Field(default_factory=dict)
    platforms: dict[str, Access] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Variables first: they override the file (the file is `toml_file`, see `load_file`).
        return env_settings, init_settings, TomlConfigSettingsSource(settings_cls)

    @model_validator(mode="after")
    def _names_resolve(self) -> Self:
        for name, preset in self.models.items():
            _check_name("models", name)
            for other in preset.fallbacks:
                if other not in self.models or other == name:
                    raise ValueError(f"models.{name}.fallbacks: no other preset named {other!r}")
            if preset.api_key_env and not os.environ.get(preset.api_key_env):
                raise ValueError(f"models.{name}.api_key_env: {preset.api_key_env} is not set")
        if len({p.prices.currency for p in self.models.values() if p.prices}) > 1:
            raise ValueError("models.*.prices: use one currency for every preset")
        for name in (*self.personas, *self.mcp, *self.roles):
            _check_name("personas/mcp/roles", name)
        for where, access in self.platforms.items():
            for table, names in (("models", access.models), ("personas", access.personas)):
                known = self.models if table == "models" else self.personas
                unknown = [n for n in names or () if n not in known and n != DEFAULT]
                if unknown:
                    raise ValueError(f"platforms.{where}.{table}: unknown {unknown[0]!r}")
        return self


def _check_name(table: str, name: str) -> None:
    if not name or len(name) > 40 or not all(c.isalnum() or c in "_.-" for c in name):
        raise ValueError(f"{table}.{name}: names use letters, digits, '_', '.', '-' (≤ 40)")


def load_file(path: Path | None) -> ConfigFile:
    """The file at `path` (None: no file), or one `ConfigError` naming the key and problem."""
    if path is not None and not path.is_file():
        raise ConfigError("SWITCHBOARD_CONFIG", f"no file at {path}")
    class AtPath(ConfigFile):
        model_config = SettingsConfigDict(**{**ConfigFile.model_config, "toml_file": path})

    try:
        return AtPath()
    except ValidationError as exc:
        raise ConfigError("SWITCHBOARD_CONFIG", _first(exc)) from None
    except ValueError as exc:  # TOML syntax: tomllib names the line and column
        raise ConfigError("SWITCHBOARD_CONFIG", f"not valid TOML ({exc})") from None


def _first(exc: ValidationError) -> str:
    """The first problem as `key.path: message`, never the offending value (it may be secret)."""
    error: dict[str, Any] = dict(exc.errors(include_input=False)[0])
    where = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
