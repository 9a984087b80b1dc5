"""A conversation's messages as langchain-redis documents: blocking calls, run in threads."""

from __future__ import annotations

import copy
import json
import threading
import time
import warnings
from typing import Any

import redis
from langchain_core._api import LangChainDeprecationWarning
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_redis import RedisChatMessageHistory
from redisvl.query import FilterQuery  # type: ignore[import-untyped]
from redisvl.query.filter import Tag  # type: ignore[import-untyped]

from core.messages import StoredMessage
from core.redis_store import RedisStore
from core.store import TurnWrite

META = "switchboard"  # our fields inside each message's additional_kwargs


class Documents:
    """Each conversation's `RedisChatMessageHistory`, on one synchronous client and index."""

    def __init__(self, rstore: RedisStore, client: redis.Redis, key_prefix: str,
                 index_name: str) -> None:
        self.rstore, self.client = rstore, client
        self.key_prefix, self.index_name = key_prefix, index_name
        self._base: RedisChatMessageHistory | None = None
        self._base_lock = threading.Lock()

    def history(self, sid: str) -> RedisChatMessageHistory:
        """A history of `sid`; this and the methods below block, so run them in threads."""
        with self._base_lock:  # create (or check) the search index once per process
            if self._base is None:
                with warnings.catch_warnings():  # deprecated in 0.2.6: chosen knowingly
                    warnings.simplefilter("ignore", LangChainDeprecationWarning)
                    self._base = RedisChatMessageHistory(
                        sid, redis_client=self.client, key_prefix=self.key_prefix,
                        ttl=self.rstore.ttl, index_name=self.index_name)
        view = copy.copy(self._base)  # shares the client and index; only the session differs
        view.session_id = sid
        return view

    def listing(self, sid: str) -> list[tuple[str, str, StoredMessage]]:
        """(key, turn id, message) of `sid`'s messages, oldest first: `.messages`'s query, but its
        session_id TAG is case-insensitive (`a:Work` gets `a:work`'s), so keep exact keys only."""
        query = FilterQuery(filter_expression=Tag("session_id") == sid,
                            return_fields=["type", "$.data"], num_results=10_000)
        mine = f"{self.key_prefix}{sid}"
        docs = sorted((_decode(r) for r in self.history(sid).index.query(query)
                       if str(r["id"]).rpartition(":")[0] == mine), key=lambda d: d[0])
        return [doc[1:] for doc in docs]

    def append(self, sid: str, write: TurnWrite, now_ms: int) -> None:
        history = self.history(sid)
        history.add_messages([_encode(m, write.turn_id, now_ms * 100 + i)
                              for i, m in enumerate(write.messages)])
        keys = [key for key, _, _ in self.listing(sid)]
        excess = max(len(keys) - self.rstore.max_messages, 0)
        if excess:
            history.index.drop_keys(keys[:excess])
        pipe = self.client.pipeline(transaction=False)
        for key in keys[excess:]:  # one TTL for the whole conversation, as RedisStore keeps
            pipe.expire(key, self.rstore.ttl)
        pipe.execute()

    def replace_last(self, sid: str, answer: StoredMessage) -> bool:
        docs = self.listing(sid)
        if not docs or docs[-1][2].role != "ai":
            return False
        key, turn_id, _ = docs[-1]
        history = self.history(sid)
        history.index.drop_keys([key])
        history.add_messages([_encode(answer, turn_id, int(time.time() * 1000) * 100)])
        return True

    def drop(self, sid: str, user: str | None = None, turn: str | None = None) -> int:
        """Delete all messages, one turn's, or a user's with the replies; count the rest."""
        docs, drop, skip, every = self.listing(sid), [], False, user is None and turn is None
        files: list[str] = []
        for key, turn_id, message in docs:
            if message.role == "human":
                skip = message.user == user
            if skip or every or turn == turn_id:
                drop.append(key)
                files.extend(message.files)
        if drop:
            self.history(sid).index.drop_keys(drop)
        if files and user is not None:  # whole conversations lose their images with their keys
            self.client.hdel(self.rstore.keys.session(sid).files, *files)
        return len(docs) - len(drop)


def _encode(message: StoredMessage, turn_id: str, order: int) -> BaseMessage:
    meta = {"o": order, "k": turn_id, "t": message.at, "n": message.name, "u": message.user,
            "f": list(message.files)}
    kind = HumanMessage if message.role == "human" else AIMessage
    return kind(content=message.text, additional_kwargs={META: meta})


def _decode(row: dict[str, Any]) -> tuple[int, str, str, StoredMessage]:
    """(order, key, turn id, message) of a search row; the order breaks timestamp ties."""
    data = json.loads(row["$.data"])
    meta: dict[str, Any] = data.get("additional_kwargs", {}).get(META, {})
    return int(meta.get("o", 0)), str(row["id"]), str(meta.get("k", "")), StoredMessage(
        "human" if row["type"] == "human" else "ai", str(data["content"]),
        int(meta.get("t", 0)), str(meta.get("n", "")), str(meta.get("u", "")),
        tuple(str(i) for i in meta.get("f", ())))
