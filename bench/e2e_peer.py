"""The peer of bench/e2e.py: a chat API built the way the seed articles build one.

FastAPI; a `prompt | ChatOpenAI` chain wrapped in `RunnableWithMessageHistory`, whose history
is langchain-community's `RedisChatMessageHistory` with a TTL, constructed per request; a JWT
(HS256) checked per request; the reply streamed as SSE `data:` lines. This is the deprecated
pattern the project itself does not use: it lives in bench/ only, as the thing to beat.
Run: `uvicorn --factory bench.e2e_peer:from_env` with PEER_REDIS_URL, PEER_PREFIX,
PEER_OPENAI_BASE_URL and PEER_JWT_SECRET set.
"""

# No `from __future__ import annotations`: FastAPI must see the local `User` alias itself.
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from langchain_community.chat_message_histories import RedisChatMessageHistory
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

TTL = 86400
SYSTEM = "You are a helpful assistant. Be concise and friendly."


@dataclass(frozen=True)
class PeerSettings:
    """Where the peer's Redis and model are, and the secret its tokens are signed with."""

    redis_url: str
    prefix: str
    openai_base_url: str
    jwt_secret: str


class ChatRequest(BaseModel):
    message: str
    session_id: str | None = None


class ChatResponse(BaseModel):
    response: str
    session_id: str


def chain(settings: PeerSettings) -> Runnable:  # type: ignore[type-arg]
    prompt = ChatPromptTemplate.from_messages([
        ("system", SYSTEM), MessagesPlaceholder(variable_name="history"), ("human", "{input}")])
    llm = ChatOpenAI(model="gpt-4o-mini", api_key="sk-bench",  # type: ignore[arg-type]
                     base_url=settings.openai_base_url, streaming=True)

    def history(session_id: str) -> RedisChatMessageHistory:
        return RedisChatMessageHistory(session_id, url=settings.redis_url, ttl=TTL,
                                       key_prefix=settings.prefix)
    return RunnableWithMessageHistory(prompt | llm, history, input_messages_key="input",
                                      history_messages_key="history")


def create_app(settings: PeerSettings) -> FastAPI:
    app, runnable, bearer = FastAPI(title="seed-style peer"), chain(settings), HTTPBearer()

    def user_id(creds: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
        try:
            return str(jwt.decode(creds.credentials, settings.jwt_secret,
                                  algorithms=["HS256"])["sub"])
        except (jwt.PyJWTError, KeyError):
            raise HTTPException(401, "Invalid authentication token") from None

    User = Annotated[str, Depends(user_id)]

    def config(user: str, request: ChatRequest) -> tuple[str, dict[str, object]]:
        session_id = request.session_id or str(uuid.uuid4())
        return session_id, {"configurable": {"session_id": f"{user}:{session_id}"}}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/chat", response_model=ChatResponse)
    async def chat(request: ChatRequest, user: User) -> ChatResponse:
        session_id, cfg = config(user, request)
        response = await runnable.ainvoke({"input": request.message}, config=cfg)  # type: ignore[arg-type]
        return ChatResponse(response=response.content, session_id=session_id)

    @app.post("/chat/stream")
    async def chat_stream(request: ChatRequest, user: User) -> StreamingResponse:
        session_id, cfg = config(user, request)

        async def generate() -> AsyncIterator[str]:
            yield f"data: {json.dumps({'session_id': session_id})}\n\n"
            async for chunk in runnable.astream({"input": request.message}, config=cfg):  # type: ignore[arg-type]
                if chunk.content:
                    yield f"data: {json.dumps({'token': chunk.content})}\n\n"
            yield "data: [DONE]\n\n"
        return StreamingResponse(generate(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    return app


def from_env() -> FastAPI:
    return create_app(PeerSettings(os.environ["PEER_REDIS_URL"], os.environ["PEER_PREFIX"],
                                   os.environ["PEER_OPENAI_BASE_URL"],
                                   os.environ["PEER_JWT_SECRET"]))
