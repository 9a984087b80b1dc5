"""A fake Telegram Bot API (aiohttp) for the real python-telegram-bot, over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web
from telegram.ext import AIORateLimiter

from adapters.render import utf16_len
from adapters.telegram import TelegramSettings, build_application, flood, running
from adapters.telegram.app import TelegramApp
from adapters.telegram.inbox import Inbox
from core.service import ChatService
from tests.fakes.common import start_aiohttp

TOKEN = "123456:TEST-telegram-token"
BOT = {"id": 1000, "is_bot": True, "first_name": "Switchboard",
       "username": "switchboard_test_bot", "can_join_groups": True,
       "can_read_all_group_messages": False, "supports_inline_queries": False}
# Fields PTB sends as raw strings; everything else arrives JSON-encoded.
_TEXT_FIELDS = {"text", "caption", "parse_mode", "action", "url", "secret_token",
                "callback_query_id", "data", "file_id"}
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
         "span", "tg-spoiler", "blockquote"}
# The entity types of the Bot API's MessageEntity.
ENTITY_TYPES = {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
                "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
                "expandable_blockquote", "code", "pre", "text_link", "text_mention",
                "custom_emoji"}
_STYLES = {"bold", "italic", "underline", "strikethrough", "spoiler"}
_QUOTES = {"blockquote", "expandable_blockquote"}
_CODE = {"code", "pre"}
_ENTITY = re.compile(r"(?<!\w)(/\w+(?:@\w+)?|@\w{3,})")
_FLOODED = {"sendMessage", "editMessageText"}  # what counts toward a group's flood limit
# Telegram allows 20 messages a minute in a group. Tests compress the minute (see
# `FakeTelegram.group_window`); `telegram_bot` configures the bot's limiter to match.
GROUP_LIMIT, GROUP_WINDOW = 20, 1.0
# Telegram does not document how long a press waits for its answer; bots see "query is too
# old" after some seconds. The fake takes answers for this long.
QUERY_TTL = 10.0
FILE_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files: "Bad Request: file is too big"


class _Entities(HTMLParser):
    """Parses Telegram HTML like the Bot API does: known tags, balanced; visible text collected."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            raise ValueError(f"unsupported start tag \"{tag}\"")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise ValueError(f"unmatched end tag \"{tag}\"")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(text: str, parse_mode: str | None) -> str:
    """The text a user sees; raises ValueError where Telegram answers "can't parse entities"."""
    if parse_mode != "HTML":
        return text
    parser = _Entities()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise ValueError(f"unclosed tag \"{parser.stack[-1]}\"")
    return "".join(parser.text)


def _inside(outer: str, inner: str) -> bool:
    """May `inner` sit inside `outer`, by the Bot API's rules for nested entities?"""
    if outer in _CODE or inner in _CODE:
        return outer in _QUOTES and inner in _CODE  # plain text inside; in a quote at most
    if outer in _QUOTES:
        return inner not in _QUOTES  # quotes cannot nest
    return bool(_STYLES & {outer, inner})  # other entities cannot contain each other


def _nested(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """`a` and `b` are apart, or one lies inside the other as Telegram allows."""
    a_end, b_end = a["offset"] + a["length"], b["offset"] + b["length"]
    if a_end <= b["offset"] or b_end <= a["offset"]:
        return True
    return any(o["offset"] <= i["offset"] and i["offset"] + i["length"] <= o["offset"] +
               o["length"] and _inside(o["type"], i["type"]) for o, i in ((a, b), (b, a)))


def check_entities(text: str, entities: list[dict[str, Any]]) -> None:
    """Raise ValueError for entities Telegram refuses (or, for bad nesting, documents as
    invalid: Telegram itself then drops one of the two)."""
    size = utf16_len(text)
    for e in entities:
        if e.get("type") not in ENTITY_TYPES:
            raise ValueError(f"unsupported entity type \"{e.get('type')}\"")
        start, length = e.get("offset"), e.get("length")
        if not isinstance(start, int) or not isinstance(length, int) or start < 0 or \
                length <= 0 or start + length > size:
            raise ValueError(f"entity {e['type']} at {start}+{length} lies outside the "
                             f"text of {size} UTF-16 units")
    for a, b in itertools.combinations(entities, 2):
        if not _nested(a, b):
            raise ValueError(f"entities {a['type']} and {b['type']} overlap")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Change:
    """One message as a chat shows it after a send, edit (or, with `text` None, a delete)."""

    chat_id: int
    message_id: int
    text: str | None
    html: bool
    entities: list[dict[str, Any]] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Draft:
    """One `sendMessageDraft`: what a private chat previewed while the answer grew."""

    chat_id: int
    draft_id: int
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)


@dataclass
class StoredFile:
    """A user's file as the Bot API keeps it: getFile reports it, /file/bot… serves it."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    file_size: int


@dataclass
class Document:
    """A file the bot sent (`sendDocument`, a multipart upload)."""

    chat_id: int
    name: str
    data: bytes
    caption: str


@dataclass
class Failure:
    method: str
    status: int
    description: str
    when: Callable[[dict[str, Any]], bool]
    retry_after: int | None = None


class FakeTelegram:
    """Records every Bot API call; queues updates for getUpdates or pushes them to a webhook."""

    def __init__(self, group_limit: int = GROUP_LIMIT,
                 group_window: float = GROUP_WINDOW) -> None:
        self.base_url = ""  # http://127.0.0.1:PORT
        self.group_limit, self.group_window = group_limit, group_window
        self.flooded: list[Call] = []  # calls answered 429 for breaking a group's flood limit
        self.refused: list[Call] = []  # calls answered 400 (bad entities, too long, …)
        self.drafts: list[Draft] = []
        self._group_times: dict[int, deque[float]] = {}  # accepted messages+edits per group
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.webhook: dict[str, Any] | None = None
        self.texts: dict[tuple[int, int], str] = {}  # (chat, message) -> text shown
        self.entities: dict[tuple[int, int], list[dict[str, Any]]] = {}  # ... and its entities
        self.changes: list[Change] = []  # every successful send, edit and delete, in order
        self._raw: dict[tuple[int, int], str] = {}  # the last text as sent, markup included
        self._updates: list[dict[str, Any]] = []
        self.markups: dict[tuple[int, int], dict[str, Any]] = {}  # inline keyboards shown
        self.members: dict[tuple[int, int], str] = {}  # (chat, user) -> status; else "member"
        self._arrived = asyncio.Event()
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(5000)
        self.files: dict[str, StoredFile] = {}  # by file_id
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/
        self._file_numbers = itertools.count(1)
        self.documents: list[Document] = []  # files the bot sent, in order
        # Telegram takes one answer per callback query, and only within seconds of the press.
        self.query_ttl = QUERY_TTL
        self._queries: dict[str, float] = {}  # callback query id -> when it was pressed
        self.answered_queries: set[str] = set()
        self.delays: dict[str, float] = {}  # method -> seconds before it answers (a slow API)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bot"

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def confirmed(self, update_id: int) -> bool:
        """Whether the bot confirmed the update: a getUpdates call with a later offset."""
        return any(int(p.get("offset") or 0) > update_id for p in self.called("getUpdates"))

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [p for p in self.called("sendMessage") if p["chat_id"] == chat_id]

    def busiest(self, chat_id: int, window: float) -> int:
        """The most messages and edits the group accepted within any `window` seconds."""
        times = [c.at for c in self.calls if c.method in _FLOODED and
                 c.params.get("chat_id") == chat_id and c not in self.flooded]
        return max((sum(1 for t in times if start <= t < start + window) for start in times),
                   default=0)

    def fail(self, method: str, status: int, description: str, retry_after: int | None = None,
             when: Callable[[dict[str, Any]], bool] = lambda _: True) -> None:
        """Answer the next matching call with an error, once."""
        self.failures.append(Failure(method, status, description, when, retry_after))

    # --- updates -------------------------------------------------------------------------------

    def message(self, chat: dict[str, Any], user: dict[str, Any], text: str,
                **extra: Any) -> dict[str, Any]:
        """A user's text message, with the command and @mention entities Telegram would add."""
        entities = _entities(text)
        body = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                "from": user, "text": text, **extra}
        return body | ({"entities": entities} if entities else {})

    def media_message(self, chat: dict[str, Any], user: dict[str, Any],
                      caption: str | None = None, **media: Any) -> dict[str, Any]:
        """A message carrying `photo=`, `voice=` or `document=` (from the helpers below)."""
        body = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                "from": user, **media}
        if caption is not None:
            body["caption"] = caption
            if entities := _entities(caption):
                body["caption_entities"] = entities
        return body

    async def send_media(self, chat: dict[str, Any], user: dict[str, Any],
                         caption: str | None = None, **media: Any) -> dict[str, Any]:
        return await self.push({"message": self.media_message(chat, user, caption, **media)})

    # --- files ---------------------------------------------------------------------------------

    @property
    def file_url(self) -> str:
        """PTB's `base_file_url`: downloads go to `{file_url}{token}/{file_path}`."""
        return f"{self.base_url}/file/bot"

    def add_file(self, data: bytes, file_path: str | None = None,
                 file_size: int | None = None) -> str:
        """Store a user's file; returns its file_id. `file_size` may claim more than `data`."""
        n = next(self._file_numbers)
        stored = StoredFile(f"AgACAgQAAxkBAAI{n:06d}", f"AQAD{n:04d}", data,
                            file_path or f"documents/file_{n}", file_size or len(data))
        self.files[stored.file_id] = stored
        return stored.file_id

    def photo(self, *sizes: tuple[bytes, int, int]) -> list[dict[str, Any]]:
        """PhotoSize objects from (jpeg, width, height), smallest first, as Telegram sends."""
        out = []
        for data, width, height in sorted(sizes, key=lambda s: s[1] * s[2]):
            stored = self.files[self.add_file(data, f"photos/file_{len(self.files)}.jpg")]
            out.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                        "file_size": stored.file_size, "width": width, "height": height})
        return out

    def voice(self, data: bytes, duration: int, mime_type: str = "audio/ogg") -> dict[str, Any]:
        stored = self.files[self.add_file(data, f"voice/file_{len(self.files)}.oga")]
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "duration": duration, "mime_type": mime_type, "file_size": stored.file_size}

    def document(self, data: bytes, file_name: str, mime_type: str,
                 file_size: int | None = None) -> dict[str, Any]:
        suffix = file_name.rpartition(".")[2] if "." in file_name else ""
        path = f"documents/file_{len(self.files)}" + (f".{suffix}" if suffix else "")
        stored = self.files[self.add_file(data, path, file_size)]
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_name": file_name, "mime_type": mime_type, "file_size": stored.file_size}

    def downloaded(self, file_id: str) -> bool:
        return self.files[file_id].file_path in self.downloads

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update (a fresh update_id unless given), as Telegram would."""
        update = {"update_id": next(self._ids), **update}
        if "callback_query" in update:
            self._queries[str(update["callback_query"]["id"])] = time.monotonic()
        if self.webhook:
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.get("secret_token", "")}
            async with aiohttp.ClientSession() as session, session.post(
                    self.webhook["url"], json=update, headers=headers) as response:
                update["_status"] = response.status
            return update
        self._updates.append(update)
        self._arrived.set()
        return update

    async def send_text(self, chat: dict[str, Any], user: dict[str, Any], text: str,
                        **extra: Any) -> dict[str, Any]:
        return await self.push({"message": self.message(chat, user, text, **extra)})

    # --- HTTP ----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return _error(404, "Not Found")
        self.downloads.append(path)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(call := Call(method, params))
        if (wait := self._flood_wait(method, params)) is not None:
            self.flooded.append(call)
            return _error(429, f"Too Many Requests: retry after {wait}", wait)
        for failure in self.failures:
            if failure.method == method and failure.when(params):
                self.failures.remove(failure)
                return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        await asyncio.sleep(self.delays.get(method, 0))
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            return web.json_response({"ok": True, "result": await handler(params)})
        except ValueError as exc:
            self.refused.append(call)
            return _error(400, f"Bad Request: {exc}")

    def _flood_wait(self, method: str, params: dict[str, Any]) -> int | None:
        """Seconds to wait when this call breaks its group's limit (like Telegram's 429)."""
        chat_id = params.get("chat_id")
        if method not in _FLOODED or not isinstance(chat_id, int) or chat_id > 0:
            return None
        now, times = time.monotonic(), self._group_times.setdefault(chat_id, deque())
        while times and times[0] <= now - self.group_window:
            times.popleft()
        if len(times) >= self.group_limit:
            return max(1, math.ceil(times[0] + self.group_window - now))
        times.append(now)
        return None

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            raise ValueError("can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and float(params.get("timeout") or 0) > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), float(params["timeout"]))
        return self._updates[: int(params.get("limit") or 100)]

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ValueError("invalid file_id")
        if stored.file_size > FILE_LIMIT:  # the cloud Bot API serves files up to 20 MB
            raise ValueError("file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": stored.file_size, "file_path": stored.file_path}

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getChatMember(self, params: dict[str, Any]) -> Any:
        """A ChatMember: "creator" and "administrator" as set in `members`, else "member"."""
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = self.members.get((chat_id, user_id), "member")
        who = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        if status == "creator":
            return {"status": status, "user": who, "is_anonymous": False}
        if status == "administrator":
            rights = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                      "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                      "can_change_info", "can_invite_users", "can_post_stories",
                      "can_edit_stories", "can_delete_stories")
            return {"status": status, "user": who, **dict.fromkeys(rights, False),
                    "can_manage_chat": True}
        return {"status": status, "user": who}

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        query = str(params["callback_query_id"])
        pressed = self._queries.get(query, time.monotonic())
        if query in self.answered_queries or time.monotonic() - pressed > self.query_ttl:
            raise ValueError("query is too old and response timeout expired or query ID is "
                             "invalid")
        if len(str(params.get("text") or "")) > 200:  # an alert takes 0-200 characters
            raise ValueError("MESSAGE_TOO_LONG")
        self.answered_queries.add(query)
        return True

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id, text = int(params["chat_id"]), _checked(params)
        message_id = next(self._message_ids)
        self._show(chat_id, message_id, params)
        if params.get("reply_markup"):
            self.markups[(chat_id, message_id)] = params["reply_markup"]
        return _message(chat_id, message_id, text)

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        """A document uploaded as multipart `document` (bytes and file name), with a caption."""
        chat_id, upload = int(params["chat_id"]), params.get("document")
        if not isinstance(upload, web.FileField):
            raise ValueError("there is no document in the request")
        data, caption = upload.file.read(), str(params.get("caption") or "")
        if len(data) > 50 * 1000 * 1000:
            raise ValueError("file is too big")
        if len(caption) > 1024:
            raise ValueError("message caption is too long")
        self.documents.append(Document(chat_id, upload.filename, data, caption))
        stored = self.files[self.add_file(data, f"documents/{upload.filename}")]
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                    "file_name": upload.filename, "file_size": len(data)}
        sent = _message(chat_id, next(self._message_ids), "")
        del sent["text"]
        return sent | {"caption": caption, "document": document}

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.texts:
            raise ValueError("message to edit not found")
        markup = params.get("reply_markup") or None
        if self.markups.get(key) == markup:
            raise ValueError("message is not modified: specified new message content and "
                             "reply markup are exactly the same")
        if markup is None:
            self.markups.pop(key, None)
        else:
            self.markups[key] = markup
        return _message(*key, self.texts[key])

    async def _m_sendMessageDraft(self, params: dict[str, Any]) -> Any:
        chat_id, draft_id = params.get("chat_id"), params.get("draft_id")
        if not isinstance(chat_id, int) or chat_id <= 0:
            raise ValueError("message drafts can be sent only to private chats")
        if not isinstance(draft_id, int) or draft_id == 0:
            raise ValueError("draft_id must be a non-zero integer")
        text = str(params.get("text") or "")  # empty: Telegram shows "Thinking…"
        entities = self._entities(params)
        if utf16_len(visible(text, params.get("parse_mode"))) > 4096:
            raise ValueError("message is too long")
        self.drafts.append(Draft(chat_id, draft_id, text, entities))
        return True

    async def _m_deleteMessage(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self.texts.pop(key, None) is None:
            raise ValueError("message to delete not found")
        self._raw.pop(key, None)
        self.entities.pop(key, None)
        self.changes.append(Change(*key, None, False))
        return True

    def _entities(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The message's entities, checked as Telegram checks them (400 if refused)."""
        entities = list(params.get("entities") or [])
        try:
            check_entities(str(params.get("text") or ""), entities)
        except ValueError as exc:
            raise ValueError(f"can't parse entities: {exc}") from None
        return entities

    def _show(self, chat_id: int, message_id: int, params: dict[str, Any]) -> None:
        text = visible(str(params["text"]), params.get("parse_mode"))
        entities = self._entities(params)
        self.texts[(chat_id, message_id)] = text
        self.entities[(chat_id, message_id)] = entities
        self._raw[(chat_id, message_id)] = params["text"]
        self.changes.append(Change(chat_id, message_id, text, params.get("parse_mode") == "HTML",
                                   entities))

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        text, key = _checked(params), (chat_id, message_id)
        if self.texts.get(key) == text and self._raw.get(key) == params["text"] and \
                self.entities.get(key) == list(params.get("entities") or []):
            raise ValueError("message is not modified: specified new message content and "
                             "reply markup are exactly the same")
        self._show(chat_id, message_id, params)
        # An edit of the text sets the keyboard too: without one, the buttons are gone.
        if params.get("reply_markup"):
            self.markups[key] = params["reply_markup"]
        else:
            self.markups.pop(key, None)
        return _message(chat_id, message_id, text)


def _entities(text: str) -> list[dict[str, Any]]:
    """The command and @mention entities Telegram adds to a user's text or caption."""
    return [{"type": "bot_command" if m.group(1)[0] == "/" else "mention",
             "offset": utf16_len(text[:m.start()]), "length": utf16_len(m.group(1))}
            for m in _ENTITY.finditer(text) if m.group(1)[0] != "/" or m.start() == 0]


def _checked(params: dict[str, Any]) -> str:
    """The visible text, once it passes Telegram's checks of markup, emptiness and length."""
    try:
        text = visible(str(params["text"]), params.get("parse_mode"))
    except ValueError as exc:
        raise ValueError(f"can't parse entities: {exc}") from None
    if not text.strip():
        raise ValueError("message text is empty")
    if utf16_len(text) > 4096:
        raise ValueError("message is too long")
    return text


def _message(chat_id: int, message_id: int, text: str) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    return {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": BOT,
            "text": text}


async def _params(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw.update(await request.json())
    elif request.can_read_body:
        raw.update(await request.post())
    return {k: v if k in _TEXT_FIELDS or not isinstance(v, str) else _json(v)
            for k, v in raw.items()}


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


@contextlib.asynccontextmanager
async def fake_telegram(**limits: Any) -> AsyncIterator[FakeTelegram]:
    """Serve a `FakeTelegram` on a free loopback port for the duration of the block."""
    fake = FakeTelegram(**limits)
    runner, port = await start_aiohttp(fake.app())
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        fake._arrived.set()
        await runner.cleanup()


def chat_of(user: dict[str, Any]) -> dict[str, Any]:
    """The private chat with a user (Telegram gives it the user's id)."""
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


def user(user_id: int, name: str, is_bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "is_bot": is_bot, "first_name": name, "username": name.lower()}


def shown(fake: FakeTelegram, chat_id: int) -> list[str]:
    """What a chat shows now, oldest message first."""
    return [text for (chat, _), text in sorted(fake.texts.items()) if chat == chat_id]


@contextlib.asynccontextmanager
async def telegram_bot(fake: FakeTelegram, service: ChatService,
                       prepare: Callable[[TelegramApp], None] | None = None,
                       replay_after: float = 60.0, limiter: AIORateLimiter | None = None,
                       inbox: Inbox | None = None,
                       **env: Any) -> AsyncIterator[TelegramApp]:
    """The real adapter on the real PTB, talking to `fake`; fast edits and short long-polls.

    `prepare` may change the application (e.g. add a handler) before it starts. The flood
    limiter keeps the fake's (compressed) group limit, as in production it keeps Telegram's.
    """
    values = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.api_url,
              "TELEGRAM_EDIT_INTERVAL": "0.05", "TELEGRAM_POLL_TIMEOUT": "1", **env}
    settings = TelegramSettings(**values)
    group = flood.Limit(fake.group_limit, fake.group_window, flood.PER_GROUP.burst)
    app = build_application(service, settings, inbox=inbox,
                            limiter=limiter or flood.limiter(group=group))
    if prepare is not None:
        prepare(app)
    async with running(app, settings, replay_after):
        yield app


def shown_parts(fake: FakeTelegram, chat_id: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """What a chat shows now, oldest message first: each message's text and entities."""
    return [(text, fake.entities[key]) for key, text in sorted(fake.texts.items())
            if key[0] == chat_id]


def screens(fake: FakeTelegram, chat_id: int) -> list[list[str]]:
    """What a chat showed after each send, edit and delete, to check every step on the way."""
    now: dict[int, str] = {}
    out: list[list[str]] = []
    for change in (c for c in fake.changes if c.chat_id == chat_id):
        if change.text is None:
            now.pop(change.message_id, None)
        else:
            now[change.message_id] = change.text
        out.append([now[k] for k in sorted(now)])
    return out
