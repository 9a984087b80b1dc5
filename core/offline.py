"""`OfflineChatModel`: a deterministic stand-in used when no OPENAI_API_KEY is set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from core.context import SUMMARY_INSTRUCTIONS, SUMMARY_NAME

HOW_TO_CONNECT = (
    "I'm running offline: no language model is connected, so I can only echo and recall. "
    "To connect one, set OPENAI_API_KEY (plus OPENAI_BASE_URL for Ollama, vLLM, LM Studio or "
    "any OpenAI-compatible server) and start me again."
)


def _quote(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return f"“{flat[:limit]}…”" if len(flat) > limit else f"“{flat}”"


def _summarize(messages: list[BaseMessage]) -> str:
    # An extractive summary: the previous one plus the first words of each folded user line.
    body = messages[-1].text
    old, _, lines = body.partition("\n\nNew lines:\n")
    old = old.removeprefix("Current summary:\n").strip()
    said = [line[:70] for line in lines.splitlines()[:-1]
            if line.strip() and not line.startswith("Assistant:")]
    gist = "; ".join(said)
    return (f"{old} {gist}".strip() if old != "(none)" else gist)[-1500:]


def _answer(messages: list[BaseMessage]) -> str:
    humans = [m for m in messages if isinstance(m, HumanMessage) and m.name != SUMMARY_NAME]
    summarized = any(m.name == SUMMARY_NAME for m in messages)
    if not humans:
        return HOW_TO_CONNECT
    last = humans[-1]
    mine = [m for m in humans[:-1] if m.name == last.name]
    lines = [f"You said: {_quote(last.text)}"]
    if pictures := _images(last):
        lines.append(f"You sent {pictures} image{'s' if pictures > 1 else ''}; offline I can't "
                     "look at images.")
    if mine:
        plural = "message" if len(mine) == 1 else "messages"
        lines.append(f"I remember {len(mine)} earlier {plural} from you in this conversation; "
                     f"the first was {_quote(mine[0].text, 80)}.")
    else:
        lines.append("That's the first message from you I can see in this conversation.")
    if summarized:
        lines.append("Older messages are folded into a summary I keep with the conversation.")
    return "\n\n".join([*lines, HOW_TO_CONNECT])


def _images(message: BaseMessage) -> int:
    blocks = message.content if isinstance(message.content, list) else []
    return sum(1 for b in blocks if isinstance(b, dict) and b.get("type") == "image")


def _pieces(text: str) -> Iterator[str]:
    words = text.split(" ")
    for i, word in enumerate(words):
        yield word if i == len(words) - 1 else word + " "


class OfflineChatModel(BaseChatModel):
    """Answers deterministically, streams word by word and shows that memory works."""

    @property
    def _llm_type(self) -> str:
        return "switchboard-offline"

    def _respond(self, messages: list[BaseMessage]) -> str:
        if messages and messages[0].text.startswith(SUMMARY_INSTRUCTIONS):
            return _summarize(messages)
        return _answer(messages)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._respond(messages)))])

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        return self._generate(messages, stop)

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for piece in _pieces(self._respond(messages)):
            await asyncio.sleep(0)  # let the event loop breathe between pieces, as a real stream
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
