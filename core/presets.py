"""The models and personas a conversation can choose, built once per process from the settings.

Without a configuration file there is one preset and one persona, both `default`, made from
the usual settings. A preset with `fallbacks` is wrapped in LangChain's `with_fallbacks`: a
rate limit, a server error or a timeout before the first token moves on to the next preset;
once text has streamed, a failure ends the answer instead (the user would see text twice).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import cast

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from core.config import DEFAULT, Access, ConfigFile, Persona, Preset
from core.errors import UnknownChoice
from core.keys import SessionKey
from core.model import ChatModel, plain_chunks
from core.offline import OfflineChatModel
from core.roles import Roles
from core.settings import CoreSettings, sees_images

# What moves a turn on to the next preset: the provider's trouble, never the request's.
FALLBACK_ON = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
               openai.APIConnectionError)


@dataclass(frozen=True, slots=True)
class Option:
    """One choice as a menu lists it."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Menu:
    """What a conversation may choose: presets and personas, in the file's order."""

    models: tuple[Option, ...]
    personas: tuple[Option, ...]


class Catalog:
    """Presets, personas and which of them each platform may use; a model per preset, reused."""

    def __init__(self, settings: CoreSettings, file: ConfigFile,
                 http: httpx.AsyncClient | None = None) -> None:
        self.settings, self.http = settings, http
        self.presets = {DEFAULT: Preset(model=settings.model), **file.models}
        self.personas = {DEFAULT: Persona(prompt=settings.system_prompt,
                                          description="The standard assistant"), **file.personas}
        self.access = file.platforms
        self.roles = Roles(file.roles)  # budgets by role, and who is an admin
        self._models: dict[str, ChatModel] = {}

    @classmethod
    def of(cls, model: ChatModel, settings: CoreSettings) -> Catalog:
        """One `default` preset served by `model` (tests, and callers that built their own)."""
        catalog = cls(settings, ConfigFile())
        catalog.serve(DEFAULT, model)
        return catalog

    def serve(self, name: str, model: ChatModel) -> None:
        """Answer the preset `name` with `model` instead of building one."""
        self._models[name] = model

    def model(self, name: str) -> ChatModel:
        """The preset's model with its fallbacks; built on first use, then shared."""
        if name not in self._models:
            self._models[name] = self._with_fallbacks(name)
        return self._models[name]

    def prompt(self, name: str) -> str:
        return self.personas.get(name, self.personas[DEFAULT]).prompt

    def preset(self, name: str) -> Preset:
        return self.presets.get(name, self.presets[DEFAULT])

    def vision(self, name: str) -> bool:
        preset = self.preset(name)
        if preset.vision is not None:
            return preset.vision
        if name == DEFAULT:
            return self.settings.limits.vision
        return sees_images(preset.model, offline=self._key(preset) is None)

    def budget(self, name: str) -> int:
        return self.preset(name).context_tokens or self.settings.context_tokens

    def allowed(self, session: SessionKey) -> tuple[list[str], list[str]]:
        """The presets and personas this conversation's platform (or workspace) may choose."""
        rule = self._rule(str(session))
        models = [n for n in self.presets if rule.models is None or n in rule.models]
        personas = [n for n in self.personas if rule.personas is None or n in rule.personas]
        return models, personas

    def menu(self, session: SessionKey) -> Menu:
        models, personas = self.allowed(session)
        return Menu(tuple(Option(n, self.presets[n].description or self.presets[n].model)
                          for n in models),
                    tuple(Option(n, self.personas[n].description) for n in personas))

    def check(self, session: SessionKey, model: str | None, persona: str | None) -> None:
        """Raise `UnknownChoice` for a name this conversation may not choose."""
        models, personas = self.allowed(session)
        if model is not None and model not in models:
            raise UnknownChoice("model", model, models)
        if persona is not None and persona not in personas:
            raise UnknownChoice("persona", persona, personas)

    def _rule(self, session_id: str) -> Access:
        # The most specific rule wins: `slack:T123` before `slack`.
        matches = [k for k in self.access if session_id == k or session_id.startswith(f"{k}:")]
        return self.access[max(matches, key=len)] if matches else Access()

    def _with_fallbacks(self, name: str) -> ChatModel:
        first = self._build(self.preset(name))
        others = [self._build(self.preset(n)) for n in self.preset(name).fallbacks]
        if not others:
            return first
        # Typed as producing an AIMessage; it streams its chat models' chunks as they do.
        return cast(ChatModel, first.with_fallbacks(others, exceptions_to_handle=FALLBACK_ON))

    def _build(self, preset: Preset) -> BaseChatModel:
        key = self._key(preset)
        if key is None:
            return OfflineChatModel()
        s = self.settings
        model = ChatOpenAI(model=preset.model, api_key=key,
                           base_url=preset.base_url or s.openai_base_url,
                           temperature=preset.temperature, timeout=s.model_timeout,
                           max_retries=s.model_max_retries, stream_usage=True,
                           http_async_client=self.http,
                           # The turn's deadline bounds every chunk's wait already; this
                           # second bound cost a task and a timer per chunk.
                           stream_chunk_timeout=None)
        return plain_chunks(model)

    def _key(self, preset: Preset) -> SecretStr | None:
        if preset.api_key_env:
            value = os.environ.get(preset.api_key_env, "")
            return SecretStr(value) if value else None
        return self.settings.openai_api_key
