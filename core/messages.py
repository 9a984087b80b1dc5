"""Stored messages: a compact JSON form in Redis, and their LangChain message equivalents."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

# Said in place of an image the turn did not read: an old one, or one the store let go.
IMAGE_GONE = "[an image sent earlier, not shown again]"
TOOLS_USED = "tools used for this answer:"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message of a conversation as kept in the store."""

    role: str  # "human" or "ai"
    text: str
    at: int  # unix seconds
    name: str = ""  # display name of a human speaker
    user: str = ""  # user key of a human speaker, for erasure in shared conversations
    files: tuple[str, ...] = ()  # ids of images kept beside the history (`SessionKeys.files`)
    tools: tuple[str, ...] = ()  # an answer's tool calls, `name {args}`, clipped: not outputs

    def encode(self) -> str:
        # Short field names: at 200 characters of text a message must stay under 320 bytes.
        data: dict[str, str | int | list[str]] = {"r": self.role[0], "c": self.text, "t": self.at}
        if self.name:
            data["n"] = self.name
        if self.user:
            data["u"] = self.user
        if self.files:
            data["f"] = list(self.files)
        if self.tools:
            data["x"] = list(self.tools)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str) -> StoredMessage:
        return _decode(raw)

    def to_langchain(self) -> BaseMessage:
        return _to_langchain(self)

    def with_images(self, files: Mapping[str, str]) -> BaseMessage:
        """The message with its images as standard content blocks, those `files` holds."""
        if not self.files:
            return _to_langchain(self)
        blocks: list[str | dict[str, str]] = [{"type": "text", "text": self.text}] \
            if self.text else []
        for file_id in self.files:
            mime, _, b64 = files.get(file_id, "").partition(";")
            blocks.append({"type": "image", "base64": b64, "mime_type": mime} if b64
                          else {"type": "text", "text": IMAGE_GONE})
        return HumanMessage(blocks, name=_safe_name(self.name) or None)


# A stored message never changes, so each process parses one at most once: every turn reads
# the same recent window again, and parsing it was most of a turn's CPU time. Bounded (about
# 15 MB at 8192 messages of 200 characters); Redis stays the only place history lives.
@functools.lru_cache(maxsize=8192)
def _decode(raw: str) -> StoredMessage:
    data = json.loads(raw)
    role = "human" if data["r"] == "h" else "ai"
    return StoredMessage(role, data["c"], int(data["t"]), data.get("n", ""), data.get("u", ""),
                         tuple(data.get("f", ())), tuple(data.get("x", ())))


@functools.lru_cache(maxsize=8192)
def _to_langchain(message: StoredMessage) -> BaseMessage:
    # Shared between turns: nothing downstream (trim_messages, ChatOpenAI) mutates messages.
    if message.role == "human":
        return HumanMessage(message.text, name=_safe_name(message.name) or None)
    if message.tools:  # what was done, so the next turn knows; the outputs are not kept
        return AIMessage(f"{message.text}\n\n[{TOOLS_USED} {'; '.join(message.tools)}]")
    return AIMessage(message.text)


@functools.lru_cache(maxsize=4096)
def _safe_name(name: str) -> str:
    # OpenAI accepts names matching ^[a-zA-Z0-9_-]{1,64}$ only; keep what fits.
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in name)
    return cleaned.strip("_")[:64]
