"""A real `switchboard run <platform>` in its own process, for crash and replica tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_OURS = ("SWITCHBOARD_", "OPENAI_", "SLACK_", "TELEGRAM_", "DISCORD_")


class BotProcess:
    """One bot process: started with `env` on top of a clean environment, killed by pid."""

    def __init__(self, platform: str, env: dict[str, str]) -> None:
        self.platform, self.env = platform, env
        self.process: asyncio.subprocess.Process | None = None
        self.log = ROOT / ".pytest_cache" / f"bot-{os.getpid()}-{id(self)}.log"

    async def start(self) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
        self.log.parent.mkdir(exist_ok=True)
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bots.cli", "run", self.platform, cwd=ROOT,
                env={**base, **self.env, "PYTHONPATH": str(ROOT)},
                stdout=asyncio.subprocess.DEVNULL, stderr=log)

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or acknowledged."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM, as a service manager stops it; SIGKILL if it does not end in 20 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.kill()
            await self.process.wait()

    async def reap(self) -> None:
        self.kill()
        if self.process is not None:
            await self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def cleanup(self) -> None:
        self.log.unlink(missing_ok=True)
