"""/link, /unlink and /whoami as every surface offers them: their texts and outcomes.

Each returns the text to send. Link errors the user can fix (a wrong or expired code, a
lockout) come back as their text; anything else is raised for the adapter's usual notice.
`whoami` names the person's other accounts: send it only where that person alone reads it.
"""

from __future__ import annotations

from urllib.parse import unquote

from core.errors import LinkError, RateLimited
from core.keys import UserKey
from core.links import Person
from core.service import ChatService

UNLINKED = "Unlinked: this account is on its own again, with its own conversation and usage."


def shown(user: UserKey) -> str:
    """An account as its owner reads it: `telegram 42`, `slack T1 U7`."""
    return " ".join((user.platform, *(unquote(p) for p in user.parts)))


def made(code: str, expires: str, typed: str = "/link {}") -> str:
    """`typed`: the command as this platform's users type it, `{}` for the code."""
    return (f"Your link code is {code}. From your other account, within 10 minutes (until "
            f"{expires} UTC), send: {typed.format(code)}\nIt works once. Linked accounts "
            "share one budget and usage.")


def joined(person: Person, shared_dms: bool) -> str:
    where = ", ".join(shown(i) for i in person.identities)
    dms = (" Your private chats with me are now one conversation on all of them."
           if shared_dms else "")
    return f"Linked: you are one person on {where}. You share one budget and usage.{dms}"


def listing(person: Person, user: UserKey) -> str:
    if not person.linked:
        return "This account isn't linked to any other. Send /link to get a code."
    lines = [f"• {shown(i)}{' (this one)' if i == user else ''}" for i in person.identities]
    return "Your linked accounts:\n" + "\n".join(lines)


async def link(service: ChatService, user: UserKey, args: str,
               typed: str = "/link {}") -> str:
    """No args: make a code and say how to use it; with a code: redeem it here."""
    try:
        if not args.strip():
            code = await service.link_code(user)
            return made(code.code, f"{code.expires_at:%H:%M}", typed)
        person = await service.link(user, args)
    except (LinkError, RateLimited) as exc:
        return exc.user_message
    return joined(person, service.settings.linked_dms == "shared")


async def unlink(service: ChatService, user: UserKey) -> str:
    try:
        await service.unlink(user)
    except LinkError as exc:
        return exc.user_message
    return UNLINKED


async def whoami(service: ChatService, user: UserKey) -> str:
    return listing(await service.whoami(user), user)
