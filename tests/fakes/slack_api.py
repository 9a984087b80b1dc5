"""A fake Slack Web API and Socket Mode server on loopback, recording every call it gets."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes.common import start_aiohttp

BOT_USER, BOT_ID, TEAM = "UBOT", "BBOT", "T1"
BOT_TOKEN = "xoxb-test"
_EMPTY_OK = ("chat.appendStream", "chat.stopStream", "assistant.threads.setStatus",
             "assistant.threads.setSuggestedPrompts", "assistant.threads.setTitle")
_POSTING = ("chat.postMessage", "chat.update", "chat.postEphemeral")
_UPLOADS = ("conversations.open", "files.getUploadURLExternal", "files.completeUploadExternal")


class FakeSlack:
    """`/api/{method}` (POST, or GET as for users.info), `POST /respond/{id}`, `GET /socket`,
    and users' files at `GET /files-pri/{team}-{id}/[download/]{name}`."""

    def __init__(self) -> None:
        self.url = ""
        self.token = BOT_TOKEN  # the only bearer token file downloads accept
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}  # id -> (file object, bytes)
        self.downloads: list[tuple[str, bool]] = []  # (file id, served) per download attempt
        self._file_ids = itertools.count(1)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.acks: list[str] = []  # Socket Mode envelope ids acknowledged by the client
        self.refuse: dict[str, str] = {}  # method -> error returned once per call
        self.users: dict[str, dict[str, Any]] = {}  # user id -> `users.info` profile fields
        self._failures: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._ts = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()
        self.uploads: dict[str, bytes] = {}  # the bot's uploads by file id (files_upload_v2)

    def fail_next(self, method: str, status: int, headers: dict[str, str] | None = None) -> None:
        self._failures.setdefault(method, []).append((status, headers or {}))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk GETs a few, e.g. users.info
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/files-pri/{team_file}/{name}", self._file)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._file)
        app.router.add_get("/login", self._login)
        app.router.add_post("/upload/{file_id}", self._upload)  # files.getUploadURLExternal's
        return app

    def add_file(self, data: bytes, name: str, mimetype: str, filetype: str | None = None,
                 size: int | None = None) -> dict[str, Any]:
        """Store a user's upload; returns the file object events and `files.info` carry.

        `size` may claim more than `data` holds, for files too big to download.
        """
        file_id = f"F{next(self._file_ids):08d}"
        base = f"{self.url}/files-pri/{TEAM}-{file_id}"
        obj = {"id": file_id, "name": name, "title": name, "mimetype": mimetype,
               "filetype": filetype or name.rpartition(".")[2].lower(),
               "size": len(data) if size is None else size, "user": "U1",
               "mode": "hosted", "is_external": False, "url_private": f"{base}/{name}",
               "url_private_download": f"{base}/download/{name}"}
        self.files[file_id] = (obj, data)
        return obj

    def downloaded(self, file_id: str) -> bool:
        """Whether the file's bytes were served (to a request with the bot token)."""
        return (file_id, True) in self.downloads

    async def _file(self, request: web.Request) -> web.Response:
        team, _, file_id = request.match_info["team_file"].partition("-")
        if team != TEAM or file_id not in self.files:
            return web.Response(status=404, text="file not found")
        obj, data = self.files[file_id]
        served = request.headers.get("Authorization") == f"Bearer {self.token}"
        self.downloads.append((file_id, served))
        if not served:  # as Slack does: a redirect to the sign-in page, which answers 200
            raise web.HTTPFound(f"{self.url}/login?redir={request.path}")
        return web.Response(body=data, content_type=obj["mimetype"])

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal handed out: it takes the bytes."""
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="upload url not found")
        self.uploads[file_id] = await request.read()
        return web.Response(text="OK - " + str(len(self.uploads[file_id])))

    def shared(self, channel: str) -> list[tuple[str, bytes]]:
        """Files the bot shared into `channel` (files.completeUploadExternal): name, bytes."""
        return [(f.get("title", ""), self.uploads[f["id"]])
                for p in self.called("files.completeUploadExternal")
                if p.get("channel_id") == channel for f in json.loads(p["files"])]

    async def _login(self, request: web.Request) -> web.Response:
        return web.Response(text="<!DOCTYPE html><html><head><title>Slack</title></head>"
                                 "<body>Sign in to Test</body></html>", content_type="text/html")

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def messages(self, channel: str | None = None) -> dict[str, str]:
        """What a person sees: message ts -> final text, after updates and streams."""
        shown: dict[str, str] = {}
        for method, p in self.calls:
            if channel is not None and p.get("channel", p.get("channel_id")) != channel:
                continue
            text = (p.get("text") or p.get("markdown_text") or "") + \
                "".join(c.get("text", "") for c in p.get("chunks") or [])
            if method in ("chat.postMessage", "chat.startStream"):
                shown[p["_ts"]] = text
            elif method == "chat.update":
                shown[p["ts"]] = text
            elif method in ("chat.appendStream", "chat.stopStream"):
                shown[p["ts"]] = shown.get(p["ts"], "") + text
        return shown

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        params["_token"] = request.headers.get("Authorization", "")
        params["_at"] = time.monotonic()
        if self._failures.get(method):
            status, headers = self._failures[method].pop(0)
            self.calls.append((f"{method}!{status}", params))
            error = "ratelimited" if status == 429 else "internal_error"
            return web.json_response({"ok": False, "error": error}, status=status,
                                     headers=headers)
        if method in _POSTING and params.get("markdown_text") and (
                params.get("text") or params.get("blocks")):
            # Slack takes Markdown text instead of `text` and `blocks`, never beside them.
            self.calls.append((f"{method}!markdown_text_conflict", params))
            return web.json_response({"ok": False, "error": "markdown_text_conflict"})
        if method in _POSTING and (error := refusal(params)):
            self.calls.append((f"{method}!{error}", params))
            return web.json_response({"ok": False, "error": error})
        if method in self.refuse:
            self.calls.append((f"{method}!{self.refuse[method]}", params))
            return web.json_response({"ok": False, "error": self.refuse[method]})
        self.calls.append((method, params))
        return web.json_response(self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM,
                    "user": "switchboard", "team": "Test", "url": "https://test.slack.com/"}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http", "ws", 1) + "/socket"}
        if method in ("chat.postMessage", "chat.startStream", "chat.postEphemeral"):
            params["_ts"] = f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": params["_ts"],
                    "message_ts": params["_ts"]}
        if method == "users.info":
            return self._user(str(params.get("user", "")))
        if method == "files.info":
            found = self.files.get(str(params.get("file", "")))
            return {"ok": True, "file": found[0]} if found else \
                {"ok": False, "error": "file_not_found"}
        if method in _UPLOADS:
            return self._uploading(method, params)
        if method == "chat.update" or method in _EMPTY_OK:
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        return {"ok": False, "error": "unknown_method"}

    def _uploading(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.open and the two files.*External steps of files_upload_v2."""
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{params.get('users', '')}"}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):08d}"
            self.uploads[file_id] = b""
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        listed = json.loads(params.get("files") or "[]")
        if not listed or any(f.get("id") not in self.uploads for f in listed):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", ""),
                                       "size": len(self.uploads[f["id"]])} for f in listed]}

    def _user(self, user: str) -> dict[str, Any]:
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        profile = {"display_name": "", "real_name": "", **self.users[user]}
        admin = bool(profile.pop("is_admin", False))  # a workspace admin, beside the profile
        return {"ok": True, "user": {"id": user, "name": user.lower(), "is_admin": admin,
                                     "real_name": profile["real_name"], "profile": profile}}

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        if error := refusal(body):
            return web.Response(status=400, text=error)
        self.responses.append(body)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        self.connected.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data).get("envelope_id", ""))
        return ws

    async def push(self, envelope_id: str, body: dict[str, Any], retry: int = 0,
                   kind: str = "events_api", socket: int = -1) -> None:
        """Deliver a payload over Socket Mode as Slack does (`retry_attempt` 0 the first time).

        `socket` picks the connection (in order of connecting): Slack spreads events over all
        of an app's connections, several bot processes included.
        """
        await self._sockets[socket].send_json({
            "envelope_id": envelope_id, "type": kind, "payload": body,
            "accepts_response_payload": kind != "events_api", "retry_attempt": retry,
            "retry_reason": "timeout" if retry else ""})

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()


def refusal(params: dict[str, Any]) -> str:
    """What Slack answers a message over its limits ('' when none is): Block Kit's (a section's
    text 3,000, a button's 75, a menu's 100 options of 75, 50 blocks) and 12,000 characters of
    Markdown (markdown_text, or all `markdown` blocks together)."""
    blocks = params.get("blocks") or []
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    markdown = len(str(params.get("markdown_text") or "")) + sum(
        len(b.get("text", "")) for b in blocks if b.get("type") == "markdown")
    if markdown > 12_000:
        return "msg_too_long"
    elements = [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]
    options = [o for e in elements for o in e.get("options", [])]
    if (len(blocks) > 50 or any(len(b.get("text", {}).get("text", "")) > 3000
                                for b in blocks if b.get("type") == "section")
            or any(len(e.get("text", {}).get("text", "")) > 75 for e in elements)
            or any(len(e.get("options", [])) > 100 for e in elements)
            or any(len(o["text"]["text"]) > 75 for o in options)):
        return "invalid_blocks"
    return ""


async def _params(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    if request.content_type == "application/json":
        return dict(json.loads(raw or "{}"))
    params: dict[str, Any] = dict(parse_qsl(raw))
    params.update(request.query)
    for key in ("chunks", "prompts", "blocks"):  # form-encoded lists arrive as JSON strings
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


_event_numbers = itertools.count(1)


def _event_ts() -> str:
    return f"1720000000.{next(_event_numbers):06d}"


def file_message(files: list[dict[str, Any]], text: str = "", channel: str = "DU1",
                 user: str = "U1", ts: str = "", **extra: Any) -> dict[str, Any]:
    """A `message` event sharing files (subtype `file_share`), by default in a DM."""
    kind = "im" if channel.startswith("D") else "channel"
    return {"type": "message", "subtype": "file_share", "channel_type": kind,
            "channel": channel, "user": user, "text": text, "files": files, "upload": False,
            "ts": ts or _event_ts(), "team": TEAM, **extra}


def file_mention(files: list[dict[str, Any]], text: str = "", channel: str = "C1",
                 user: str = "U1", ts: str = "", **extra: Any) -> dict[str, Any]:
    """An `app_mention` event with files (app_mention carries them, without a subtype)."""
    return {"type": "app_mention", "channel": channel, "user": user, "team": TEAM,
            "text": f"<@{BOT_USER}> {text}".rstrip(), "files": files,
            "ts": ts or _event_ts(), **extra}


@contextlib.asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """Serve a `FakeSlack` on a free loopback port; `fake.url + "/api/"` is the base URL."""
    fake = FakeSlack()
    runner, port = await start_aiohttp(fake.app())
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await fake.close()
        await runner.cleanup()
