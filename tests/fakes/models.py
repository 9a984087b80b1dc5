"""Chat models for core tests: the offline model, counting calls and optionally slow."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, UsageMetadata
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from core.offline import OfflineChatModel


class CountingModel(OfflineChatModel):
    """Counts calls, and the most calls ever running at once per system prompt's speaker."""

    delay: float = 0.0
    calls: int = 0
    running: Counter[str] = Field(default_factory=Counter)
    peak: int = 0

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        self.calls += 1
        key = messages[0].text
        self.running[key] += 1
        self.peak = max(self.peak, self.running[key])
        try:
            await asyncio.sleep(self.delay)
            return self._generate(messages, stop)
        finally:
            self.running[key] -= 1


USAGE: UsageMetadata = {"input_tokens": 10, "output_tokens": 1, "total_tokens": 11}


class MeteredModel(OfflineChatModel):
    """The offline model's answers, each reporting 10 tokens in and 1 out, whole or streamed."""

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: Any = None, **kwargs: Any
                       ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in super()._astream(messages, stop):
            yield chunk
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=USAGE))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        result = super()._generate(messages, stop)
        message = result.generations[0].message
        assert isinstance(message, AIMessage)
        message.usage_metadata = USAGE.copy()
        return result


class GatedModel(MeteredModel):
    """Answers (10 tokens in, 1 out) only once `release` is set; `started` is set when a call
    waits: a test can act between a turn's open and its commit, deterministically."""

    _started: asyncio.Event = PrivateAttr(default_factory=asyncio.Event)
    _release: asyncio.Event = PrivateAttr(default_factory=asyncio.Event)

    @property
    def started(self) -> asyncio.Event:
        return self._started

    @property
    def release(self) -> asyncio.Event:
        return self._release

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self._started.set()
        await self._release.wait()
        return self._generate(messages, stop)
