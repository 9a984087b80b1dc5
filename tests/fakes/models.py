"""Chat models for core tests: the offline model, counting calls and optionally slow."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

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
