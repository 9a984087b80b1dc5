"""Who is talking and which conversation it is: frozen keys rendered platform-first."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote


class Scope(StrEnum):
    """How a conversation is shared: one person, one thread, or one member of a channel."""

    DIRECT = "dm"
    THREAD = "thread"
    CHANNEL_MEMBER = "member"
    CHANNEL = "channel"
    API = "api"


# Scopes where one user owns the whole conversation; erasing that user deletes all of it.
PRIVATE_SCOPES = frozenset({Scope.DIRECT, Scope.CHANNEL_MEMBER, Scope.API})


def _part(value: str | int) -> str:
    # ':' separates parts and '{' '}' are Redis Cluster hash-tag braces: escape them.
    text = str(value)
    if not text:
        raise ValueError("key parts must not be empty")
    return quote(text, safe="-_.@+=!~*'()")


@dataclass(frozen=True, slots=True)
class UserKey:
    """One person on one platform (and workspace): the unit of rate limits and erasure."""

    platform: str
    parts: tuple[str, ...]

    @classmethod
    def of(cls, platform: str, *parts: str | int) -> UserKey:
        return cls(_part(platform), tuple(_part(p) for p in parts))

    def __str__(self) -> str:
        return ":".join((self.platform, *self.parts))


@dataclass(frozen=True, slots=True)
class SessionKey:
    """One conversation; `str(key)` is its id, like `slack:T1:C9:1712.33`."""

    platform: str
    scope: Scope
    parts: tuple[str, ...]

    @classmethod
    def direct(cls, user: UserKey) -> SessionKey:
        """A private chat: one running conversation per user."""
        return cls(user.platform, Scope.DIRECT, user.parts)

    @classmethod
    def thread(cls, platform: str, *where: str | int) -> SessionKey:
        """A thread (or forum topic): everyone in it shares one conversation."""
        return cls._make(platform, Scope.THREAD, where)

    @classmethod
    def channel_member(cls, platform: str, *where: str | int, user: UserKey) -> SessionKey:
        """One member's own conversation inside a shared channel or group."""
        return cls._make(platform, Scope.CHANNEL_MEMBER, (*where, "u", *user.parts))

    @classmethod
    def channel(cls, platform: str, *where: str | int) -> SessionKey:
        """A channel whose members share one conversation (an opt-in setting)."""
        return cls._make(platform, Scope.CHANNEL, (*where, "all"))

    @classmethod
    def api(cls, user: UserKey, session_id: str) -> SessionKey:
        """An HTTP API conversation, owned by the authenticated user."""
        return cls("api", Scope.API, (*user.parts, _part(session_id)))

    @classmethod
    def _make(cls, platform: str, scope: Scope, where: tuple[str | int, ...]) -> SessionKey:
        return cls(_part(platform), scope, tuple(_part(p) for p in where))

    def __str__(self) -> str:
        return ":".join((self.platform, *self.parts))

    @property
    def private(self) -> bool:
        return self.scope in PRIVATE_SCOPES


@dataclass(frozen=True, slots=True)
class Speaker:
    """The person behind a message: their key and how to address them."""

    user: UserKey
    display_name: str
    platform_name: str
    # Roles the platform says they have (a workspace admin, a Discord role, a chat admin);
    # the configuration's `[roles.NAME]` tables give each its budget and add members by id.
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """One conversation's Redis keys, sharing one Cluster slot."""

    history: str  # list of encoded messages
    meta: str  # hash: title, counts, times, rolling summary
    turns: str  # zset of stored turn ids (idempotency)
    lock: str  # the turn lock
    files: str  # hash: image id -> "mime;base64", the images its messages refer to
    authors: str  # set: user keys of the people who wrote in a shared conversation

    @property
    def all(self) -> tuple[str, str, str, str, str, str]:
        """Every key, in the order the Lua scripts take them."""
        return self.history, self.meta, self.turns, self.lock, self.files, self.authors


@dataclass(frozen=True, slots=True)
class UserKeys:
    """One person's Redis keys, sharing one Cluster slot."""

    rate: str  # hash: GCRA state
    admitted: str  # zset: turn ids already counted by the rate limit
    index: str  # hash: the person's session ids and their scopes
    counted: str  # zset: turn ids whose tokens were counted (each once)
    tag: str  # the shared prefix and hash tag
    epoch: str  # string: this person's current life in the store, 'erasing' while erased

    @property
    def all(self) -> tuple[str, str, str, str]:
        return self.rate, self.admitted, self.index, self.epoch

    def usage(self, label: str) -> str:
        """hash `in`, `out`: the tokens of one period (`d:2026-12-04`, `m:2026-12`)."""
        return f"{self.tag}:use:{label}"

    @property
    def person(self) -> str:
        """string: the id of the person this identity is linked to (absent: not linked)."""
        return f"{self.tag}:p"

    @property
    def members(self) -> str:
        """set: a person's linked identities (on the person's own key)."""
        return f"{self.tag}:ids"


# The platform name of a linked person's keys: their shared rate, budget, usage and DM.
PERSON = "linked"


def person_key(person_id: str) -> UserKey:
    """The key whose rate, budget and usage a linked person's identities share."""
    return UserKey(PERSON, (person_id,))


def person_dm(person_id: str) -> SessionKey:
    """The one private conversation of a linked person (SWITCHBOARD_LINKED_DMS=shared)."""
    return SessionKey(PERSON, Scope.DIRECT, (person_id,))


def parse_user(text: str) -> UserKey:
    """A `UserKey` back from `str(key)` (its parts are escaped, so ':' only separates)."""
    platform, *parts = text.split(":")
    return UserKey(platform, tuple(parts))


@dataclass(frozen=True, slots=True)
class LinkCheck:
    """What a turn assumed about its sender's link, checked by the store in the open trip."""

    identity: UserKey
    person: str  # the person id the turn's keys were chosen for; "" for none


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """The linking codes and their guards, under one hash tag (one Cluster slot)."""

    tag: str

    def code(self, code: str) -> str:
        return f"{self.tag}:c:{code}"  # string "maker|expires_ms"

    def latest(self, who: str) -> str:
        return f"{self.tag}:k:{who}"  # string: the one live code `who` made

    def made(self, who: str) -> str:
        return f"{self.tag}:m:{who}"  # counter: codes made in the current window

    def tries(self, who: str) -> str:
        return f"{self.tag}:t:{who}"  # hash: n wrong tries, `until` locked (epoch ms)

    def everyone(self, minute: int) -> str:
        return f"{self.tag}:g:{minute}"  # counter: codes made or tried by anyone this minute


@dataclass(frozen=True, slots=True)
class KeySpace:
    """Every Redis key the bot writes, namespaced and hash-tagged per session or user."""

    prefix: str

    def session(self, session_id: str) -> SessionKeys:
        tag = f"{self.prefix}{{s:{session_id}}}"
        return SessionKeys(f"{tag}:h", f"{tag}:m", f"{tag}:t", f"{tag}:l", f"{tag}:f",
                           f"{tag}:w")

    def user(self, user_id: str) -> UserKeys:
        tag = f"{self.prefix}{{u:{user_id}}}"
        return UserKeys(f"{tag}:r", f"{tag}:a", f"{tag}:s", f"{tag}:uc", tag, f"{tag}:e")

    def links(self) -> LinkKeys:
        return LinkKeys(f"{self.prefix}{{links}}")

    def totals(self, label: str) -> str:
        """hash `<platform>:in|out|c`: everyone's tokens and cost in one period, per platform.
        One slot for all: a Cluster pipeline sends it to its own node."""
        return f"{self.prefix}{{g:use}}:{label}"

    @property
    def totals_counted(self) -> str:
        """zset: person and turn ids already in the totals (each once)."""
        return f"{self.prefix}{{g:use}}:uc"
