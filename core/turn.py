"""What one turn is: the message in, the work while it is answered, and its record out."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage

from core import context, inputs
from core.attachments import Upload
from core.config import Preset
from core.keys import SessionKey, Speaker
from core.messages import StoredMessage
from core.model import ChatModel


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


@dataclass(slots=True)
class Work:
    """One open turn: its prompt and model, and the answer and tokens as they come."""

    prompt: context.Prompt
    model: ChatModel
    preset: Preset
    preset_name: str
    heard: str = ""  # transcripts of voice notes, quoted: shown before the answer, not stored
    files: tuple[tuple[str, str], ...] = ()  # the message's new images, for the store
    parts: list[str] = field(default_factory=list)
    tokens: int = 0
    answered_by: str = ""

    def add(self, message: BaseMessage) -> str:
        usage = getattr(message, "usage_metadata", None)
        self.tokens += int(usage["total_tokens"]) if usage else 0
        self.answered_by = str(message.response_metadata.get("model_name") or self.answered_by)
        self.parts.append(message.text)
        return message.text

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
