"""The chat model: `ChatOpenAI` for any OpenAI-compatible endpoint, or the offline model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Protocol

import httpx
import openai
from langchain_core.messages import BaseMessage, BaseMessageChunk
from langchain_openai import ChatOpenAI

from core.errors import ModelError, ModelTimeout, SwitchboardError
from core.settings import CoreSettings


class ChatModel(Protocol):
    """The seam to the language model: `ChatOpenAI` for real, `OfflineChatModel` as the fake.

    Any LangChain chat model fits; so does a bare object with these two methods, which is how
    the benchmark's instant model avoids measuring LangChain's callback machinery.
    """

    async def ainvoke(self, input: Any, /) -> BaseMessage: ...

    def astream(self, input: Any, /) -> AsyncIterator[BaseMessageChunk]: ...


def http_client(settings: CoreSettings) -> httpx.AsyncClient:
    """The pooled HTTP client for the model endpoint; whoever opens it closes it.

    Passing our own keeps the connection pool's life explicit: langchain-openai otherwise
    caches a process-wide client per base URL, bound to the event loop that first used it.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.model_timeout, connect=5.0),
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100))


# Keys of a request that are options of the SDK's call, not the request's JSON body.
CALL_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})


class PlainChunks:
    """`chat.completions` for `ChatOpenAI`, whose streams yield each chunk as its parsed JSON.

    The openai SDK builds an object per streamed chunk (checking a runtime Protocol on the way)
    and langchain-openai turns it straight back into a dict: together most of a streamed
    answer's CPU. Asked for `object`, the SDK's own client passes the parsed JSON on as is,
    with its retries, timeouts, errors and auth unchanged. Anything else goes the usual way.
    """

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self.client, self.usual = client, client.chat.completions
        self.with_raw_response = self.usual.with_raw_response

    async def create(self, **payload: Any) -> Any:
        if payload.get("stream") is not True or not CALL_OPTIONS.isdisjoint(payload):
            return await self.usual.create(**payload)
        return await self.client.post("/chat/completions", body=payload, cast_to=object,
                                      stream=True, stream_cls=openai.AsyncStream[object])


def plain_chunks(model: ChatOpenAI) -> ChatOpenAI:
    """`model`, streaming through `PlainChunks`."""
    model.async_client = PlainChunks(model.root_async_client)
    return model


def describe(settings: CoreSettings) -> str:
    """One line for the start-up log: which model, where (never the key)."""
    if settings.openai_api_key is None:
        return "offline model (set OPENAI_API_KEY to connect a real one)"
    return f"{settings.model} at {settings.openai_base_url or 'api.openai.com'}"


def as_model_error(exc: BaseException) -> ModelError | None:
    """Map a client exception to the error tree, or None when it is not the model's fault."""
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return ModelTimeout(type(exc).__name__)
    if isinstance(exc, openai.OpenAIError | httpx.HTTPError):
        return ModelError(type(exc).__name__)
    if isinstance(exc, asyncio.TimeoutError):
        return ModelTimeout("deadline")
    return None


def classify(exc: BaseException) -> tuple[str, SwitchboardError | None]:
    """The outcome to record, and the error tree's exception to raise instead, if any."""
    if isinstance(exc, SwitchboardError):
        return type(exc).__name__, None
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return "cancelled", None
    mapped = as_model_error(exc) if isinstance(exc, Exception) else None
    return type(mapped or exc).__name__, mapped

