"""What one turn is: the message in, the work while it is answered, and its record out."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field, replace

from langchain_core.messages import BaseMessage

from core import context, inputs
from core.attachments import Upload
from core.config import Preset
from core.deadline import bounded
from core.errors import NotLastAnswer
from core.keys import SessionKey, Speaker
from core.messages import StoredMessage
from core.model import ChatModel
from core.store import Loaded
from core.usage import Spend, Tokens


@dataclass(frozen=True, slots=True)
class Turn:
    """One incoming message; `turn_id` is stable across platform redeliveries."""

    session: SessionKey
    speaker: Speaker
    text: str
    turn_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    uploads: tuple[Upload, ...] = ()  # files the user sent with it, as downloaded


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """How a turn ended, for logs and metrics; never the message text."""

    platform: str
    session: str
    outcome: str  # "ok" or the error class name
    seconds: float
    tokens: int
    preset: str = ""  # the conversation's model preset
    answered_by: str = ""  # the model that answered, as the provider named it
    fallback: bool = False  # a fallback preset answered, not the chosen one
    spend: Spend | None = None  # every model call's tokens, by kind, and their cost


@dataclass(slots=True)
class Work:
    """One open turn: its prompt and model, and the answer and tokens as they come."""

    prompt: context.Prompt
    model: ChatModel
    preset: Preset
    preset_name: str
    heard: str = ""  # transcripts of voice notes, quoted: shown before the answer, not stored
    files: tuple[tuple[str, str], ...] = ()  # the message's new images, for the store
    seconds: float = 0.0  # of voice transcribed for it
    redo: str | None = None  # regenerating: the turn whose answer this one replaces
    tools: list[str] = field(default_factory=list)  # the tool calls made, as stored
    parts: list[str] = field(default_factory=list)
    tokens: int = 0  # the answer's
    answered_by: str = ""
    spent: Tokens = field(default_factory=Tokens)  # every model call's, the summary's too

    def add(self, message: BaseMessage) -> str:
        self.tokens += self.spent.add(message)
        self.answered_by = str(message.response_metadata.get("model_name") or self.answered_by)
        self.parts.append(message.text)
        return message.text

    def bound(self, per_call: float) -> float:
        """One model call's bound: `per_call` for the preset and each of its fallbacks in turn."""
        return per_call * (1 + len(self.preset.fallbacks))

    @property
    def fallback(self) -> bool:
        """Whether another preset's model answered (providers add versions: `gpt-4o-2024-…`)."""
        return bool(self.answered_by) and not self.answered_by.startswith(self.preset.model)


def cost(turn: Turn) -> int:
    """What a message counts as against its sender's rate: one, and one per attached file."""
    return 1 + len(turn.uploads)


def human(turn: Turn, given: inputs.Input) -> StoredMessage:
    """The user's message as stored: its text, who said it, and the ids of its images."""
    return StoredMessage("human", given.text, int(time.time()), turn.speaker.display_name,
                         str(turn.speaker.user), tuple(image_id for image_id, _ in given.images))


def again(loaded: Loaded, target: str | None) -> tuple[Loaded, StoredMessage, str]:
    """For regenerating: the conversation before the last answer, its question, and the turn
    it answered (`target`, or whichever is last); NotLastAnswer if that is not the last."""
    messages, target = loaded.messages, target or loaded.last_turn
    if (not target or loaded.last_turn != target or len(messages) < 2
            or messages[-1].role != "ai" or messages[-2].role != "human"):
        raise NotLastAnswer()
    return replace(loaded, messages=messages[:-2], total=loaded.total - 2), messages[-2], target


async def pieces(work: Work, deadline: float) -> AsyncGenerator[str, None]:
    """The answer as the model streams it (after what was heard), within `deadline` seconds."""
    if work.heard:
        yield work.heard
    end = asyncio.get_running_loop().time() + deadline
    chunks = bounded(work.model.astream(work.prompt.messages), end)
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:  # only the waits are bounded: see core/deadline.py
            if piece := work.add(chunk):
                yield piece
