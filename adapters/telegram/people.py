"""Who a Telegram user is to the core: their key, their name, and what Telegram says of them."""

from __future__ import annotations

import logging

from cachetools import TTLCache
from telegram import Bot, Chat, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from core.keys import Speaker, UserKey

log = logging.getLogger("switchboard.telegram")
PLATFORM = "telegram"
ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
FACT = "telegram:admin:"  # + the chat id: an administrator of that group


def user_key(user: User) -> UserKey:
    return UserKey.of(PLATFORM, user.id)


def named(user: User, facts: frozenset[str] = frozenset()) -> Speaker:
    return Speaker(user_key(user), user.full_name or user.username or str(user.id), "Telegram",
                   facts)


async def is_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    member = await bot.get_chat_member(chat_id, user_id)
    return member.status in ADMINS


class People:
    """Speakers with the group-administrator fact, looked up (getChatMember) only where the
    configuration names such a fact, and kept for `ttl` seconds per member and group."""

    def __init__(self, wanted: bool, size: int = 4096, ttl: float = 600) -> None:
        self.wanted = wanted
        self._admins: TTLCache[tuple[int, int], bool] = TTLCache(size, ttl)

    async def speaker(self, bot: Bot, chat: Chat, user: User) -> Speaker:
        if not self.wanted or chat.type == ChatType.PRIVATE:
            return named(user)
        key = (chat.id, user.id)
        if key not in self._admins:
            try:
                self._admins[key] = await is_admin(bot, chat.id, user.id)
            except TelegramError as exc:  # no fact then; the answer matters more
                log.info("getChatMember failed: %s", type(exc).__name__)
                return named(user)
        return named(user, frozenset({f"{FACT}{chat.id}"}) if self._admins[key] else frozenset())
