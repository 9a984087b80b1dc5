"""A fake Discord REST API and gateway on loopback that the real discord.py client talks to."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from tests.fakes.common import start_aiohttp

TOKEN = "fake-discord-token"
BOT, APP, GUILD = 1000, 1000, 2000
CONTENT_LIMIT = 2000  # characters of a message's content
CHANNEL, SHARED, THREAD = 3000, 3001, 3002
# A second guild, on shard 1 of 2 ((id >> 22) % 2), given only to sharded clients.
GUILD2, CHANNEL2 = (1 << 22) + 2000, 3100
MESSAGE_CONTENT = 1 << 15
MANAGE_MESSAGES = 1 << 13
IS_VOICE_MESSAGE = 1 << 13  # a message flag: the one attachment is a voice note
TS = "2024-01-01T00:00:00+00:00"
Json = dict[str, Any]


def user(uid: int, name: str, *, bot: bool = False) -> Json:
    return {"id": str(uid), "username": name, "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot}


BOT_USER = user(BOT, "switchboard", bot=True)


def _json(obj: Any, status: int = 200) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly "application/json".
    return web.Response(body=json.dumps(obj).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def _member(who: Json, permissions: int = 0) -> Json:
    return {"user": who, "roles": [], "joined_at": TS, "deaf": False, "mute": False,
            "permissions": str(permissions), "flags": 0}


def _channel(cid: int, name: str, guild: int = GUILD) -> Json:
    return {"id": str(cid), "type": 0, "name": name, "position": 0, "guild_id": str(guild),
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
            "last_message_id": None, "rate_limit_per_user": 0}


def _thread() -> Json:
    meta = {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": TS,
            "locked": False}
    return {"id": str(THREAD), "type": 11, "name": "a thread", "guild_id": str(GUILD),
            "parent_id": str(CHANNEL), "owner_id": "4001", "last_message_id": None,
            "rate_limit_per_user": 0, "message_count": 0, "member_count": 1,
            "thread_metadata": meta}


def _channel_type(channel: int, guild: bool) -> int:
    return 1 if not guild else 11 if channel == THREAD else 0


def shard_of(guild: int | None, shards: int) -> int:
    """Which shard Discord sends a guild's events to; DMs go to shard 0."""
    return 0 if guild is None else (guild >> 22) % shards


def _guild2() -> Json:
    return _guild() | {"id": str(GUILD2), "name": "Second Guild", "threads": [],
                       "channels": [_channel(CHANNEL2, "general", GUILD2)],
                       "roles": [_guild()["roles"][0] | {"id": str(GUILD2)}]}


def _guild() -> Json:
    everyone = {"id": str(GUILD), "name": "@everyone", "permissions": "0", "position": 0,
                "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
    return {"id": str(GUILD), "name": "Fake Guild", "unavailable": False, "owner_id": "4001",
            "roles": [everyone], "channels": [_channel(CHANNEL, "general"),
                                              _channel(SHARED, "shared")],
            "threads": [_thread()], "members": [_member(BOT_USER)], "member_count": 3,
            "emojis": [], "stickers": [], "features": [], "large": False, "joined_at": TS,
            "voice_states": [], "presences": [], "premium_tier": 0, "mfa_level": 0,
            "verification_level": 0, "explicit_content_filter": 0, "afk_timeout": 300,
            "default_message_notifications": 0, "system_channel_flags": 0, "nsfw_level": 0,
            "preferred_locale": "en-US"}


@dataclass
class Call:
    method: str
    path: str
    body: Any  # a JSON object, or a list for the command sync
    files: list[tuple[str, bytes]] = field(default_factory=list)  # multipart uploads: name, bytes


class FakeDiscord:
    """Records every REST call; `say()` and `command()` dispatch gateway events to every bot.

    Several clients may connect (two bot processes): each event goes to all of them.
    `reconnect()` asks them to RESUME and replays logged events, as Discord does.
    """

    def __init__(self) -> None:
        self.base = ""
        self.message_content_allowed = True  # the "portal" switch for the privileged intent
        self.calls: list[Call] = []
        self.messages: dict[int, Json] = {}  # bot messages by id, latest content
        self.said: dict[int, Json] = {}  # people's messages by id, as MESSAGE_CREATE carried them
        self.identifies: list[Json] = []
        self.resumes: list[Json] = []  # RESUME payloads (token removed)
        self.gateway_bot_url = ""  # what GET /gateway/bot returns; default: this gateway
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()
        self._ids = itertools.count(900_000)
        self._seq = itertools.count(1)
        self._log: list[Json] = []  # dispatched MESSAGE_CREATE / INTERACTION_CREATE payloads
        self._sockets: list[web.WebSocketResponse] = []
        self._shards: dict[int, tuple[int, int]] = {}  # id(socket) -> (shard id, shard count)
        self._replay_from = 0
        self.last_seq = 0  # of the last logged event: pass it to `reconnect` to replay after it
        self.attachments: dict[int, bytes] = {}  # users' uploads by attachment id
        self.downloads: list[int] = []  # attachment ids fetched from the CDN routes

    def app(self) -> web.Application:
        app = web.Application()
        api, add = "/api/v10", app.router.add_route
        add("GET", f"{api}/users/@me", self._me)
        add("GET", f"{api}/oauth2/applications/@me", self._app)
        add("GET", f"{api}/gateway/bot", self._gateway_bot)
        add("PUT", f"{api}/applications/{{app}}/commands", self._commands)
        add("POST", f"{api}/channels/{{cid}}/messages", self._create)
        add("PATCH", f"{api}/channels/{{cid}}/messages/{{mid}}", self._edit)
        add("DELETE", f"{api}/channels/{{cid}}/messages/{{mid}}", self._delete)
        add("GET", f"{api}/channels/{{cid}}/messages/{{mid}}", self._fetch)
        add("POST", f"{api}/channels/{{cid}}/typing", self._typing)
        add("POST", f"{api}/interactions/{{iid}}/{{tok}}/callback", self._callback)
        add("POST", f"{api}/webhooks/{{app}}/{{tok}}", self._followup)
        add("GET", "/gateway", self._gateway)
        add("GET", "/attachments/{cid}/{aid}/{name}", self._attachment)  # cdn.discordapp.com
        add("GET", "/media/attachments/{cid}/{aid}/{name}", self._attachment)  # media proxy
        return app

    def add_attachment(self, data: bytes, filename: str, content_type: str, *,
                       channel: int = CHANNEL, size: int | None = None,
                       duration: float | None = None) -> Json:
        """Store a user's upload; returns the attachment object for `say(attachments=...)`.

        `size` may claim more than `data` holds; `duration` makes it a voice note's audio.
        """
        aid = next(self._ids)
        path = f"attachments/{channel}/{aid}/{filename}"
        signed = "?ex=6a000000&is=69f00000&hm=" + "0" * 64  # the CDN's expiring signature
        obj: Json = {"id": str(aid), "filename": filename, "content_type": content_type,
                     "size": len(data) if size is None else size,
                     "url": f"{self.base}/{path}{signed}",
                     "proxy_url": f"{self.base}/media/{path}{signed}"}
        if duration is not None:
            obj |= {"duration_secs": duration, "waveform": "AAAAAAAAAAAA"}
        self.attachments[aid] = data
        return obj

    def downloaded(self, attachment: Json) -> bool:
        return int(attachment["id"]) in self.downloads

    async def _attachment(self, request: web.Request) -> web.Response:
        aid = int(request.match_info["aid"])
        if aid not in self.attachments:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(aid)
        return web.Response(body=self.attachments[aid],
                            content_type="application/octet-stream")

    @property
    def gateway_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/gateway"

    # What the bot did

    def sent(self, channel: int) -> list[Json]:
        """Messages the bot created in a channel, each with its latest content."""
        return [m for m in self.messages.values() if m["channel_id"] == str(channel)]

    def texts(self, channel: int) -> list[str]:
        return [m["content"] for m in self.sent(channel)]

    def requests(self, method: str, fragment: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and fragment in c.path]

    # Gateway events the test sends

    async def say(self, author: Json, content: str, *, channel: int = CHANNEL,
                  guild: bool = True, mention: bool = False, reply_to: int | None = None,
                  message_id: int | None = None, attachments: list[Json] | None = None,
                  guild_id: int = GUILD) -> int:
        """Dispatch a MESSAGE_CREATE; returns the message id (reuse it to replay).

        With several shards connected it goes to the shard of its guild, as Discord sends it.
        """
        mid, attachments = message_id or next(self._ids), attachments or []
        voice = any("duration_secs" in a for a in attachments)
        data = {"id": str(mid), "channel_id": str(channel), "type": 19 if reply_to else 0,
                "content": f"<@{BOT}> {content}" if mention else content, "author": author,
                "timestamp": TS, "edited_timestamp": None, "tts": False, "pinned": False,
                "mention_everyone": "@everyone" in content, "mention_roles": [],
                "flags": IS_VOICE_MESSAGE if voice else 0, "embeds": [],
                "mentions": [BOT_USER] if mention else [], "attachments": attachments}
        if guild:
            # In MESSAGE_CREATE the member object comes without its user (that is `author`).
            member = {k: v for k, v in _member(author).items() if k != "user"}
            data |= {"guild_id": str(guild_id), "member": member}
        if reply_to is not None:
            data["message_reference"] = {"message_id": str(reply_to), "channel_id": str(channel)}
            data["referenced_message"] = self.messages[reply_to]
        self.said[mid] = data
        await self._dispatch("MESSAGE_CREATE", data)
        return mid

    async def command(self, name: str, who: Json, *, channel: int = CHANNEL,
                      guild: bool = True, permissions: int = 0,
                      options: dict[str, str] | None = None) -> int:
        """Dispatch an INTERACTION_CREATE for a slash command; returns the interaction id.

        `options` are the string options the user filled in, by name.
        """
        given = [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()]
        return await self._interaction(2, name, given, who, channel, guild, permissions)

    async def autocomplete(self, name: str, who: Json, option: str, typed: str, *,
                           channel: int = CHANNEL, guild: bool = True) -> int:
        """Dispatch an autocomplete interaction (type 4) while the user types `option`.

        The bot answers with a callback of type 8 whose `data.choices` are its suggestions.
        """
        focused = [{"name": option, "type": 3, "value": typed, "focused": True}]
        return await self._interaction(4, name, focused, who, channel, guild, 0)

    def buttons(self, message_id: int) -> list[str]:
        """The `custom_id`s of the buttons under one of the bot's messages."""
        rows = self.messages[message_id].get("components", [])
        return [c["custom_id"] for row in rows for c in row.get("components", [])
                if c.get("type") == 2 and "custom_id" in c]

    async def press(self, message_id: int, custom_id: str, who: Json, *,
                    guild: bool = True) -> int:
        """Dispatch a component interaction (type 3): `who` pressed a button on a bot message."""
        message = self.messages[message_id]
        component: Json = {"custom_id": custom_id, "component_type": 2}
        return await self._interaction(3, "", [], who, int(message["channel_id"]), guild, 0,
                                       component=component, message=message)

    async def _interaction(self, kind: int, name: str, options: list[Json], who: Json,
                           channel: int, guild: bool, permissions: int, *,
                           component: Json | None = None, message: Json | None = None) -> int:
        iid = next(self._ids)
        command: Json = component or {"id": "1", "name": name, "type": 1}
        if options:
            command["options"] = options
        data: Json = {"id": str(iid), "application_id": str(APP), "type": kind,
                      "data": command, "token": f"itok{iid}",
                      "version": 1, "locale": "en-US", "app_permissions": "0",
                      "entitlements": [], "attachment_size_limit": 8_000_000,
                      "channel_id": str(channel), "context": 0 if guild else 1,
                      "channel": {"id": str(channel), "type": _channel_type(channel, guild)}}
        if message is not None:
            data["message"] = message | ({"guild_id": str(GUILD)} if guild else {})
        if guild:  # member.permissions: the member's resolved permissions in this channel
            data |= {"guild_id": str(GUILD), "member": _member(who, permissions)}
        else:
            data["user"] = who
        await self._dispatch("INTERACTION_CREATE", data)
        return iid

    async def reconnect(self, *, replay_from: int | None = None) -> None:
        """Send RECONNECT (op 7); on RESUME, replay events after `replay_from`, then RESUMED.

        `replay_from` defaults to the client's own `seq`; an older one replays events the
        bot already handled, as when a resumed session redelivers them.
        """
        self.resumed.clear()
        self._replay_from = -1 if replay_from is None else replay_from
        sockets, self._sockets = self._sockets, []
        for socket in sockets:
            await socket.send_str(json.dumps({"op": 7, "d": None}))
        await asyncio.wait_for(self.resumed.wait(), 5)

    async def _dispatch(self, event: str, data: Json) -> None:
        # Logged even with no bot connected: a RESUME delivers what it missed.
        frame = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        self._log.append(frame)
        self.last_seq = frame["s"]
        guild = int(data["guild_id"]) if data.get("guild_id") else None
        for socket in [s for s in self._sockets if not s.closed]:  # a stopped bot's is closed
            shard, count = self._shards.get(id(socket), (0, 1))
            if count == 1 or shard_of(guild, count) == shard:
                await socket.send_str(json.dumps(frame))

    # REST

    async def _me(self, request: web.Request) -> web.Response:
        return self._authed(request, BOT_USER)

    async def _app(self, request: web.Request) -> web.Response:
        return self._authed(request, {
            "id": str(APP), "name": "switchboard", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": user(1, "owner"),
            "verify_key": "k", "flags": 0})

    def _authed(self, request: web.Request, body: Json) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        return _json(body)

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        await self._record(request)
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_bot_url or self.gateway_url, "shards": 1,
                      "session_start_limit": limit})

    async def _record(self, request: web.Request) -> Any:
        files: list[tuple[str, bytes]] = []
        if request.content_type.startswith("multipart/"):  # `payload_json` and `files[n]`
            body: Any = {}
            async for part in await request.multipart():
                if isinstance(part, BodyPartReader) and part.name == "payload_json":
                    body = json.loads(await part.text())
                elif isinstance(part, BodyPartReader):
                    files.append((part.filename or "", bytes(await part.read())))
        else:
            body = await request.json() if request.can_read_body else {}
        self.calls.append(Call(request.method, request.path, body, files))
        return body

    async def _commands(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        return _json([c | {"id": str(i + 1), "application_id": str(APP), "version": "1"}
                      for i, c in enumerate(body)])

    def _message(self, channel: str, body: Json) -> Json:
        return {"id": str(next(self._ids)), "channel_id": channel, "type": 0, "author": BOT_USER,
                "content": body.get("content", ""), "timestamp": TS, "edited_timestamp": None,
                "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
                "attachments": [], "embeds": [], "pinned": False, "flags": 0,
                "components": body.get("components", [])}

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if _too_long(body):
            return _too_long_error()
        if _empty(body, self.calls[-1].files):
            return _empty_error()
        message = self._message(request.match_info["cid"], body)
        self.messages[int(message["id"])] = message
        return _json(message)

    async def _edit(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if _too_long(body):
            return _too_long_error()
        message = self.messages[int(request.match_info["mid"])]
        message["content"] = body.get("content", message["content"])
        message["components"] = body.get("components", message["components"])
        return _json(message)

    async def _delete(self, request: web.Request) -> web.Response:
        await self._record(request)
        if self.messages.pop(int(request.match_info["mid"]), None) is None:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        return web.Response(status=204)

    async def _fetch(self, request: web.Request) -> web.Response:
        """GET one message, a person's or the bot's; 404 (code 10008) if there is none."""
        await self._record(request)
        mid, cid = int(request.match_info["mid"]), request.match_info["cid"]
        found = self.said.get(mid) or self.messages.get(mid)
        if found is None or found["channel_id"] != cid:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        return _json(found)

    async def _typing(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=204)

    async def _callback(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if _too_long(body.get("data") or {}):
            return _too_long_error()
        return _json({"interaction": {"id": request.match_info["iid"], "type": 2}})

    async def _followup(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if _too_long(body):
            return _too_long_error()
        if _empty(body, self.calls[-1].files):
            return _empty_error()
        message = self._message("0", body)
        message["attachments"] = [
            {"id": str(next(self._ids)), "filename": name, "size": len(data),
             "url": f"{self.base}/attachments/0/{n}/{name}",
             "proxy_url": f"{self.base}/media/attachments/0/{n}/{name}"}
            for n, (name, data) in enumerate(self.calls[-1].files)]
        return _json(message)

    # Gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 1000}}))
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                break
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
                await self._identify(socket, payload["d"])
            elif payload["op"] == 6:
                await self._resume(socket, payload["d"])
        return socket

    async def _resume(self, socket: web.WebSocketResponse, data: Json) -> None:
        self.resumes.append({k: v for k, v in data.items() if k != "token"})
        start = data["seq"] if self._replay_from < 0 else self._replay_from
        for frame in [f for f in self._log if f["s"] > start]:
            await socket.send_str(json.dumps(frame))  # replayed with their original seq
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": next(self._seq),
                                          "d": {}}))
        self.resumed.set()

    async def _identify(self, socket: web.WebSocketResponse, data: Json) -> None:
        self.identifies.append(data)
        if data["intents"] & MESSAGE_CONTENT and not self.message_content_allowed:
            await socket.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard, count = data.get("shard", [0, 1])
        guilds = [_guild()] if count == 1 else [
            g for g in (_guild(), _guild2()) if shard_of(int(g["id"]), count) == shard]
        ready = {"v": 10, "user": BOT_USER,
                 "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
                 "session_id": "session", "resume_gateway_url": self.gateway_url,
                 "shard": data.get("shard", [0, 1]), "private_channels": [],
                 "application": {"id": str(APP), "flags": 0}}
        self._sockets.append(socket)
        self._shards[id(socket)] = (shard, count)
        for event, payload in [("READY", ready), *(("GUILD_CREATE", g) for g in guilds)]:
            frame = {"op": 0, "t": event, "s": next(self._seq), "d": payload}
            await socket.send_str(json.dumps(frame))  # to this client only
        self.ready.set()


@contextlib.asynccontextmanager
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """Serve a `FakeDiscord` on a free loopback port for the duration of the block."""
    fake = FakeDiscord()
    runner, port = await start_aiohttp(fake.app())
    fake.base = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def _too_long(body: Json) -> bool:
    """Discord refuses a message whose content is over 2,000 characters."""
    return len(str(body.get("content") or "")) > CONTENT_LIMIT


def _too_long_error() -> web.Response:
    return _json({"code": 50035, "message": "Invalid Form Body", "errors": {"content": {
        "_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                     "message": f"Must be {CONTENT_LIMIT} or fewer in length."}]}}}, 400)


def _empty(body: Json, files: list[tuple[str, bytes]]) -> bool:
    """A message with no content, buttons or files: Discord refuses to send it."""
    return not (str(body.get("content") or "").strip() or body.get("components") or files)


def _empty_error() -> web.Response:
    return _json({"code": 50006, "message": "Cannot send an empty message"}, 400)
