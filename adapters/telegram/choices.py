"""`/model` and `/persona` on Telegram: show with buttons, choose by name or by a button.

Who may change a conversation's choice: in a private chat its user; in a group whose members
each have their own conversation, that member (a button answers only the one who asked); in a
shared group (`TELEGRAM_SHARED_GROUPS`), the chat's administrators. Texts and outcomes are
the shared ones of `adapters.commands`; errors come out as its one failure text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters import commands
from adapters.telegram.handlers import NOT_YOURS, outbox, session_key
from adapters.telegram.settings import TelegramSettings
from core.keys import SessionKey
from core.service import ChatService

log = logging.getLogger("switchboard.telegram")
Context = ContextTypes.DEFAULT_TYPE
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
ADMINS_ONLY = "In this group only its administrators can change the {kind}."
ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)  # "creator", "administrator"
# `model:<name>:<asker>`: names are ≤ 40 ASCII characters and the asker's id is in hex (≤ 13
# digits for Telegram's 52-bit ids), so the data stays within Telegram's 64 bytes.
BUTTON = r"^(model|persona):[A-Za-z0-9_.-]{1,40}:[0-9a-f]{1,16}$"
MAX_BUTTONS = 100  # Telegram's limit for one inline keyboard


def refusal(kind: commands.Kind) -> str:
    return ADMINS_ONLY.format(kind=kind)


def button_data(kind: commands.Kind, name: str, asker: int) -> str:
    data = f"{kind}:{name}:{asker:x}"
    if len(data.encode()) > 64:
        raise ValueError("callback data over Telegram's 64 bytes")
    return data


class Choices:
    """PTB callbacks for `/model` and `/persona` and their buttons."""

    def __init__(self, service: ChatService, settings: TelegramSettings) -> None:
        self.service, self.settings = service, settings

    def command(self, kind: commands.Kind) -> Callback:
        """`/model` or `/persona`: alone it shows the choice and buttons; with a name, chooses."""
        async def on_command(update: Update, context: Context) -> None:
            message, user = update.effective_message, update.effective_user
            if message is None or user is None:
                return
            session, box = self._session(update), outbox(message, context.bot)
            where = f"telegram session={session}"
            name = " ".join(context.args or [])
            if name:
                said = await commands.outcome(
                    self._choose(context, message, user, session, kind, name), where=where)
                await box.say(said)
                return
            said = await commands.outcome(commands.current(self.service, session, kind),
                                          where=where)
            buttons = await self._buttons(session, kind, user.id)
            await box.say(said, **({"reply_markup": buttons} if buttons else {}))
        return on_command

    async def on_button(self, update: Update, context: Context) -> None:
        """A button under `/model` or `/persona`: choose it, then show the outcome there."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        message = query.message
        if not isinstance(message, Message):  # too old for Telegram to show it to the bot
            await query.answer()
            return
        kind_, name, asker = query.data.split(":")
        kind, user = cast(commands.Kind, kind_), query.from_user
        if not self._shared(message) and int(asker, 16) != user.id:
            await query.answer(NOT_YOURS, show_alert=True)
            return
        session = self._session(update)
        said = await commands.outcome(self._choose(context, message, user, session, kind, name),
                                      where=f"telegram session={session}")
        if said == refusal(kind):
            await query.answer(said, show_alert=True)
            return
        await query.answer()
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(said)

    async def _choose(self, context: Context, message: Message, user: User,
                      session: SessionKey, kind: commands.Kind, name: str) -> str:
        """The outcome of choosing `name`, or the refusal when `user` may not change it."""
        if self._shared(message) and not await self._admin(context, message.chat.id, user.id):
            return refusal(kind)
        return await commands.choose(self.service, session, kind, name)

    async def _buttons(self, session: SessionKey, kind: commands.Kind,
                       asker: int) -> InlineKeyboardMarkup | None:
        try:
            options = commands.options(self.service, session, kind)
            choice = await self.service.choice(session)
        except Exception:  # the text above said what went wrong; no buttons then
            return None
        now = choice.model if kind == "model" else choice.persona
        rows = [[InlineKeyboardButton(f"✓ {o.name}" if o.name == now else o.name,
                                      callback_data=button_data(kind, o.name, asker))]
                for o in options[:MAX_BUTTONS]]
        return InlineKeyboardMarkup(rows) if rows else None

    def _session(self, update: Update) -> SessionKey:
        return session_key(update, self.settings.shared_groups)

    def _shared(self, message: Message) -> bool:
        """A group whose members share one conversation."""
        return self.settings.shared_groups and message.chat.type != ChatType.PRIVATE

    @staticmethod
    async def _admin(context: Context, chat_id: int, user_id: int) -> bool:
        member = await context.bot.get_chat_member(chat_id, user_id)
        return member.status in ADMINS
