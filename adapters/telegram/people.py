"""Who a Telegram user is to the core: their key, their name, and what Telegram says of them."""

from __future__ import annotations

from telegram import Bot, Chat, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from adapters.lookups import Lookups
from core.keys import Speaker, UserKey

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
    """Speakers with the group-administrator fact, asked of Telegram (getChatMember) only where
    the configuration names such a fact, and kept ten minutes per member and group."""

    def __init__(self, bot: Bot, wanted: bool) -> None:
        self.wanted = wanted
        self.admin: Lookups[tuple[int, int], bool] = Lookups(
            lambda key: is_admin(bot, *key), lambda key: False, (TelegramError,),
            what="getChatMember")

    async def speaker(self, chat: Chat, user: User) -> Speaker:
        if not self.wanted or chat.type == ChatType.PRIVATE:
            return named(user)
        admin = await self.admin((chat.id, user.id))
        return named(user, frozenset({f"{FACT}{chat.id}"}) if admin else frozenset())
