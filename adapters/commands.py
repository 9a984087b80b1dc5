"""The chat commands every platform offers: their table, texts, permissions and outcomes.

A platform only reads a command's name and arguments from its payload, says who may change a
shared conversation there, and shows the `Said` that `run` returns (with its menu or buttons).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal

from adapters import admin, identity
from adapters.admin import plural as plural
from adapters.admin import usage as usage
from adapters.failures import notice
from adapters.render import clipped
from core.export import ExportFile
from core.keys import SessionKey, UserKey
from core.presets import Option
from core.service import ChatService


@dataclass(frozen=True, slots=True)
class Command:
    """One command as a platform's command menu lists it, with its optional argument."""

    name: str
    description: str
    argument: str = ""  # the argument's name, if it takes one (`/model NAME`)
    argument_help: str = ""


NAME_HELP = "Leave empty to see the current one and what else you may choose"
COMMANDS = (Command("reset", "Start the conversation here over"),
            Command("forget", "Erase everything the bot keeps about you"),
            Command("export", "Get all your conversations as a JSON file"),
            Command("model", "Show or choose the model for this conversation", "name", NAME_HELP),
            Command("persona", "Show or choose the bot's persona here", "name", NAME_HELP),
            Command("usage", "Tokens you used today and this month", "scope",
                    "all: everyone's tokens per platform (admins only)"),
            Command("link", "Link this account with your account on another platform", "code",
                    "The code your other account got; leave empty to get one"),
            Command("unlink", "Split this account off your linked accounts"),
            Command("whoami", "Show which of your accounts are linked"),
            Command("help", "How to talk to the bot"))
BY_NAME = {command.name: command for command in COMMANDS}
# Answers for the person alone: a link code would join whoever redeems it to them, whoami
# names their other accounts, and an export holds their conversations. Where everyone would
# read the answer, they are not given.
PRIVATE = frozenset({"link", "whoami", "export"})
IN_PRIVATE = "Send me that in a private chat: its answer is for you alone."
Kind = Literal["model", "persona"]
KINDS: tuple[Kind, ...] = ("model", "persona")
RESET_DONE = "Started a fresh conversation."
ASK_FORGET = ("Erase everything I keep about you, in every chat? This cannot be undone. "
              "Tap a button, or send /forget yes.")
KEPT = "Nothing was erased."
UNKNOWN = "I don't know that command. Try /help."
NOT_YOURS = "Only the person who asked can answer this."
# A shared conversation (a group, a channel, a thread) is changed only by those `who` may.
SHARED = "Everyone here shares this conversation, so only {who} can {act}."
ACTS = {"reset": "reset it", "model": "change its model", "persona": "change its persona"}
EXPORTED = "Here are all your conversations with me, as one JSON file."


def listing(typed: str = "/{}") -> str:
    """Every command but help, one per line as the user types it (`typed`), with what it does:
    help texts list the table itself, so a new command is never missing from one."""
    return "\n".join(f"{typed.format(c.name)}: {c.description[0].lower()}{c.description[1:]}"
                     for c in COMMANDS if c.name != "help")


def forgotten(count: int) -> str:
    """What `forget` says once `count` conversations are erased."""
    return f"Done: I erased everything I kept about you ({plural(count, 'conversation')})."


async def reset(service: ChatService, session: SessionKey, user: UserKey) -> str:
    """Start `session` over for `user`."""
    await service.reset(session, user)
    return RESET_DONE


async def forget(service: ChatService, user: UserKey) -> str:
    """Erase every conversation and key of `user`."""
    return forgotten(await service.forget(user))


def options(service: ChatService, session: SessionKey, kind: Kind) -> list[Option]:
    """What this conversation may choose for `kind`, as a menu lists it."""
    menu = service.menu(session)
    return list(menu.models if kind == "model" else menu.personas)


def label(option: Option, limit: int) -> str:
    """`smart: Careful answers` as a menu shows a choice, clipped to the platform's `limit`."""
    shown = f"{option.name}: {option.description}" if option.description else option.name
    return shown if len(shown) <= limit else shown[:limit - 1] + "…"


async def current(service: ChatService, session: SessionKey, kind: Kind,
                  how: str = "") -> str:
    """`/model` or `/persona` alone: what is chosen here, and what else may be; `how` is the
    platform's way to choose (default `/model NAME`)."""
    choice = await service.choice(session)
    now = choice.model if kind == "model" else choice.persona
    listed = "\n".join(f"• {o.name}: {o.description}" if o.description else f"• {o.name}"
                       for o in options(service, session, kind))
    return f"This conversation's {kind} is {now}. To change it, send {how or f'/{kind} NAME'} " \
           f"with one of:\n{listed}"


async def choose(service: ChatService, session: SessionKey, kind: Kind, name: str) -> str:
    """`/model NAME` or `/persona NAME`: keep it with this conversation."""
    name = name.strip()
    if kind == "model":
        await service.choose(session, model=name)
    else:
        await service.choose(session, persona=name)
    return f"From now on this conversation uses the {kind} {name}."


async def outcome(work: Awaitable[str], *, where: str) -> str:
    """The command's own answer, or what `adapters.failures` tells the user went wrong."""
    try:
        return await work
    except Exception as exc:
        return notice(exc, where=where).text


@dataclass(frozen=True, slots=True)
class Menu:
    """Choices a platform may show as buttons or a select: each one runs `kind NAME`."""

    kind: Kind
    options: tuple[Option, ...]
    chosen: str


@dataclass(frozen=True, slots=True)
class Said:
    """A command's answer: its text, and what the platform offers under it."""

    text: str
    menu: Menu | None = None
    confirm: bool = False  # `forget` asks first: the platform offers "yes" and "no"
    file: ExportFile | None = None  # `export`: sent with the text, where only the asker sees it


def guarded(name: str, args: str, session: SessionKey) -> bool:
    """Whether running this changes a conversation other people share (a permission question)."""
    return not session.private and (name == "reset" or (name in KINDS and bool(args.strip())))


def refusal(name: str, who: str) -> str:
    """What someone without the permission is told; `who` names those with it."""
    return SHARED.format(who=who, act=ACTS.get(name, "change it"))


@dataclass(frozen=True, slots=True)
class Style:
    """How one platform words its commands: its help, how a command is typed, buttons."""

    help: str
    who: str = "moderators"  # who may change a shared conversation
    typed: str = "/{}"  # a command as the user types it: Slack's is "`/switchboard {}`"
    ask_first: bool = False  # `forget` without "yes" asks first (buttons can answer it)
    # The longest answer one message takes (UTF-16 units): a long list of presets is cut there.
    limit: int | None = None


Allowed = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Asker:
    """Who runs a command: their account, what their platform says of them (`Speaker.roles`),
    and whether only they will read the answer."""

    user: UserKey
    roles: frozenset[str] = frozenset()
    private: bool = True


async def run(service: ChatService, name: str, args: str, asker: Asker | UserKey,
              session: SessionKey, style: Style, may_change: Allowed | None = None) -> Said:
    """Run one command; never raises. `may_change` says (when `guarded` asks) whether the
    user may change a shared conversation; None when the platform checked that already."""
    asker = asker if isinstance(asker, Asker) else Asker(asker)
    try:
        if name in PRIVATE and not asker.private:
            return Said(IN_PRIVATE)
        if may_change and guarded(name, args, session) and not await may_change():
            return Said(refusal(name, style.who))
        said = await _run(service, name, args.strip(), asker, session, style)
    except Exception as exc:
        return Said(notice(exc, where=f"command /{name} session={session}").text)
    return said if style.limit is None else replace(said, text=clipped(said.text, style.limit))


async def _run(service: ChatService, name: str, args: str, asker: Asker, session: SessionKey,
               style: Style) -> Said:
    user = asker.user
    if name in _BY_ASKER:
        return Said(await _BY_ASKER[name](service, asker, args, style))
    if name == "forget":
        if args.lower() == "no":
            return Said(KEPT)
        if style.ask_first and args.lower() != "yes":
            return Said(ASK_FORGET, confirm=True)
        return Said(await forget(service, user))
    if name == "export":
        return Said(EXPORTED, file=await service.export_file(user))
    if name in KINDS:
        kind: Kind = "model" if name == "model" else "persona"
        if args:
            return Said(await choose(service, session, kind, args))
        return await _show(service, session, kind, style.typed.format(f"{kind} NAME"))
    return Said(await _SIMPLE[name](service, user, session) if name in _SIMPLE else
                style.help if name in ("help", "start") else UNKNOWN)


async def _show(service: ChatService, session: SessionKey, kind: Kind, how: str) -> Said:
    text = await current(service, session, kind, how)
    chosen = await service.choice(session)
    now = chosen.model if kind == "model" else chosen.persona
    return Said(text, Menu(kind, tuple(options(service, session, kind)), now))


_SIMPLE: dict[str, Callable[[ChatService, UserKey, SessionKey], Awaitable[str]]] = {
    "reset": lambda service, user, session: reset(service, session, user),
}
_BY_ASKER: dict[str, Callable[[ChatService, Asker, str, Style], Awaitable[str]]] = {
    "usage": lambda service, a, args, style: (
        admin.totals(service, a.user, a.roles) if args.lower() == "all"
        else usage(service, a.user, a.roles)),
    "link": lambda service, a, args, style: identity.link(service, a.user, args,
                                                          style.typed.format("link {}")),
    "unlink": lambda service, a, args, style: identity.unlink(service, a.user),
    "whoami": lambda service, a, args, style: identity.whoami(service, a.user),
}
