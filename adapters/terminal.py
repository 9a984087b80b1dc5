"""The terminal adapter behind `switchboard chat`: its session key, commands and rendering."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TextIO

from adapters import commands, identity
from adapters.failures import notice
from core.agent import Confirmation, ToolStatus
from core.attachments import Limits, Upload, check_size
from core.errors import InvalidText
from core.inputs import as_sent
from core.keys import SessionKey, Speaker, UserKey
from core.messages import StoredMessage
from core.service import ChatService, Turn

HELP = "Type a message and press Enter. /attach PATH sends a file with your next message, " \
       "/retry answers your last message again, /reset starts over, /history shows this " \
       "conversation, /usage shows the tokens you used today and this month, /model and " \
       "/persona show the model and persona (/model NAME, /persona NAME choose one), " \
       "/link gives a code to link your other accounts (/link CODE links this one to the " \
       "account that made it), /unlink undoes it, /whoami lists them, /quit leaves."
CHOICES: dict[str, commands.Kind] = {"/model": "model", "/persona": "persona"}


def session_key(speaker: Speaker) -> SessionKey:
    """One running conversation per terminal user: `cli:<user>`."""
    return SessionKey.direct(speaker.user)


class Terminal:
    """Reads one message per line; streams replies to a terminal, prints them whole to a pipe."""

    def __init__(self, service: ChatService, user: str, out: TextIO, interactive: bool) -> None:
        self.service, self.out, self.interactive = service, out, interactive
        self.speaker = Speaker(UserKey.of("cli", user), user, "a terminal")
        self.session = session_key(self.speaker)
        self.attached: list[Upload] = []  # files for the next message
        self.asked: Confirmation | None = None  # a write tool waiting for the next line's y/N

    def say(self, text: str) -> None:
        self.out.write(f"{text}\n")
        self.out.flush()

    async def handle(self, raw: bytes) -> bool:
        """Act on one input line; False means the user asked to leave."""
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            self.say(InvalidText.user_message)
            return True
        command = text.strip().lower()
        if command in ("/quit", "/exit"):
            return False
        try:
            if self.asked is not None:
                await self._confirm(self.asked, command in ("y", "yes"))
                return True
            await self._dispatch(command, text)
        except Exception as exc:  # say why, and keep the chat running
            self.say(notice(exc, where="terminal").text)
        return True

    async def _dispatch(self, command: str, text: str) -> None:
        if command == "/reset":
            await self.service.reset(self.session, self.speaker.user)
            self.say("Started a fresh conversation.")
        elif command == "/retry":
            await self._retry()
        elif command == "/usage":
            self.say(await commands.usage(self.service, self.speaker.user))
        elif command == "/history":
            self._show(await self.service.history(self.session))
        elif command in ("/help", "/?"):
            self.say(HELP)
        elif command.split(maxsplit=1)[:1] == ["/link"]:
            self.say(await identity.link(self.service, self.speaker.user, text.strip()[5:]))
        elif command in ("/unlink", "/whoami"):
            act = identity.unlink if command == "/unlink" else identity.whoami
            self.say(await act(self.service, self.speaker.user))
        elif command.split(maxsplit=1)[:1] in (["/model"], ["/persona"]):
            await self._choice(text.strip())
        elif command.startswith("/attach"):
            await self._attach(text.strip()[len("/attach"):].strip())
        else:
            await self._send(text)

    async def _send(self, text: str) -> None:
        files, self.attached = tuple(self.attached), []  # sent once, whatever the outcome
        turn = Turn(self.session, self.speaker, text, uploads=files)
        await self._answer(self.service.events(turn))

    async def _retry(self) -> None:
        """Answer the last message again, in place of its answer."""
        await self._answer(self.service.regenerate(self.session, self.speaker, None,
                                                   uuid.uuid4().hex))

    async def _confirm(self, asked: Confirmation, approve: bool) -> None:
        """Any answer but y or yes refuses: the tool changes data."""
        self.asked = None
        await self._answer(self.service.confirm(self.session, self.speaker, asked.id, approve,
                                                uuid.uuid4().hex))

    async def _answer(self, pieces: AsyncGenerator[str | ToolStatus, None]) -> None:
        """Show an answer (streamed, or whole to a pipe); ask y/N if a write tool waits."""
        self.asked = await (self._stream(pieces) if self.interactive else self._whole(pieces))
        if self.asked is not None:
            self.say(f"Run {self.asked.summary}? [y/N]")

    async def _choice(self, line: str) -> None:
        """`/model` or `/persona` alone shows the choice; with a name, chooses it."""
        word, *name = line.split(maxsplit=1)
        kind = CHOICES[word.lower()]
        work = commands.choose(self.service, self.session, kind, name[0]) if name \
            else commands.current(self.service, self.session, kind)
        self.say(await commands.outcome(work, where="terminal"))

    async def _attach(self, path: str) -> None:
        """Read a file now (its size checked first); it goes with the next message."""
        if not path:
            self.say("Usage: /attach PATH")
            return
        try:
            upload = await asyncio.to_thread(_read, path, self.service.settings.limits)
        except OSError as exc:
            self.say(f"Can't read {path}: {exc.strerror or 'not a readable file'}.")
            return
        self.attached.append(upload)
        self.say(f"Attached {upload.name} ({len(upload.data) // 1024 + 1} KB): it goes with "
                 "your next message.")

    async def _stream(self, stream: AsyncGenerator[str | ToolStatus, None]
                      ) -> Confirmation | None:
        self.out.write("switchboard> ")
        asked = None
        try:
            async with contextlib.aclosing(stream):
                async for piece in stream:
                    if isinstance(piece, Confirmation):
                        asked = piece
                    elif isinstance(piece, str):
                        self.out.write(piece)
                        self.out.flush()
        finally:
            self.say("")
        return asked

    async def _whole(self, stream: AsyncGenerator[str | ToolStatus, None]
                     ) -> Confirmation | None:
        async with contextlib.aclosing(stream):
            pieces = [piece async for piece in stream]
        self.say("".join(piece for piece in pieces if isinstance(piece, str)))
        return next((p for p in pieces if isinstance(p, Confirmation)), None)

    def _show(self, messages: list[StoredMessage]) -> None:
        if not messages:
            self.say("No messages yet in this conversation.")
        for message in messages:
            if message.role != "human":
                self.say(f"switchboard: {message.text}")
                continue
            sent = as_sent(message.text, len(message.files))
            files = [*sent.files, *(["an image"] * sent.images)]
            extra = f" [sent {', '.join(files)}]" if files else ""
            self.say(f"{message.name or 'you'}: {sent.text}{extra}")


def _read(path: str, limits: Limits) -> Upload:
    """Blocking: the file at `path`, its size checked before it is read."""
    file = Path(path).expanduser()
    check_size(file.stat().st_size, limits)
    return Upload(file.name, file.read_bytes())
