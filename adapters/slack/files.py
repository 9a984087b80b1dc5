"""Files people share with the bot on Slack: which ones, from which hosts, fetched with the token.

Slack serves a file's bytes only to a request carrying the bot token; without it, it redirects
to a sign-in page that answers 200 with HTML. So a redirect, any other status, or HTML where a
file was expected is a failed download, never the file's content. Only Slack's file host (or the
configured API host, as in a test server or proxy) is ever asked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from yarl import URL

from adapters.files import Remote
from adapters.files import allowed_url as allowed_for
from core.attachments import Limits, check_count
from core.errors import DownloadFailed

log = logging.getLogger("switchboard.slack")
FILE_HOSTS: Final = frozenset({"files.slack.com"})
HTML: Final = frozenset({"text/html", "application/xhtml+xml"})
CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class SlackFile:
    """One file of a message event: what Slack says about it and where its bytes are."""

    id: str
    name: str
    mimetype: str
    size: int | None
    url: str  # url_private_download, else url_private; empty when Slack gave none


def shared_files(event: Mapping[str, Any]) -> tuple[SlackFile, ...]:
    """The files a message event carries, without deleted ones (tombstones)."""
    files = event.get("files")
    if not isinstance(files, list):
        return ()
    return tuple(_file(obj) for obj in files
                 if isinstance(obj, Mapping) and obj.get("id") and obj.get("mode") != "tombstone")


def _file(obj: Mapping[str, Any]) -> SlackFile:
    size = obj.get("size")
    told = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    url = obj.get("url_private_download") or obj.get("url_private") or ""
    return SlackFile(str(obj["id"]), str(obj.get("name") or obj.get("title") or "file"),
                     str(obj.get("mimetype") or ""), told, str(url))


def allowed_url(url: str, api_url: str) -> bool:
    """Whether a file URL may be fetched with the bot token: Slack's file host over HTTPS, or
    exactly the configured API host (scheme, host and port); never with credentials in it."""
    return allowed_for(url, FILE_HOSTS, api_url)


def is_file_response(status: int, content_type: str, file: SlackFile) -> bool:
    """A 200 with the file, not a redirect, an error or a sign-in page in its place (an HTML
    body is the file only where the user shared an HTML file)."""
    html = file.mimetype in HTML or file.name.lower().endswith((".html", ".htm"))
    return status == 200 and (content_type.lower() not in HTML or html)


async def download(client: AsyncWebClient, file: SlackFile, api_url: str,
                   max_bytes: int) -> bytes:
    """The file's bytes, read up to one byte past `max_bytes` (the size check then refuses it)."""
    if not client.token or not allowed_url(file.url, api_url):
        raise DownloadFailed("file URL missing or not on a Slack host")
    headers = {"Authorization": f"Bearer {client.token}"}
    ssl = client.ssl if client.ssl is not None else True
    async with aiohttp.ClientSession() as session, session.get(
            URL(file.url), headers=headers, allow_redirects=False, proxy=client.proxy,
            ssl=ssl) as response:
        if not is_file_response(response.status, response.content_type, file):
            log.info("slack file not served: status=%s type=%s", response.status,
                     response.content_type)
            raise DownloadFailed(f"HTTP {response.status} {response.content_type}")
        data = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            data += chunk
            if len(data) > max_bytes:
                break
        return bytes(data)


async def described(client: AsyncWebClient, files: Sequence[SlackFile],
                    limits: Limits) -> tuple[SlackFile, ...]:
    """The files with where to fetch them: Slack Connect events carry only a file's id
    (`file_access: check_file_info`), so `files.info` tells the rest. Too many: refused first."""
    check_count(len(files), limits)
    return tuple([file if file.url else await _info(client, file) for file in files])


async def _info(client: AsyncWebClient, file: SlackFile) -> SlackFile:
    try:
        found = (await client.files_info(file=file.id)).get("file")
    except SlackApiError as err:
        log.info("slack files.info refused: %s", err.response.get("error"))
        raise DownloadFailed("files.info refused") from err
    return _file(found) if isinstance(found, Mapping) and found.get("id") else file


def remotes(client: AsyncWebClient, files: Sequence[SlackFile], api_url: str,
            max_bytes: int) -> list[Remote]:
    """The files as `adapters.files.fetch` takes them: nothing is downloaded until it says so."""
    return [Remote(file.name, file.mimetype, file.size,
                   partial(download, client, file, api_url, max_bytes)) for file in files]
