"""Delivery guarantee: replies in flight at a stop finish (or are cancelled) before it closes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

# Replies in flight may finish this long after a stop; the rest are cancelled, which ends their
# core turns too, so `bots.platforms`' own drain then returns at once (a stop stays under 10 s).
DRAIN_SECONDS = 8.0


class Inflight:
    """The reply tasks running now, and whether the client is closing (then no new ones)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closing = False

    @contextlib.contextmanager
    def tracked(self) -> Iterator[None]:
        """Count the current task as a reply in flight while the block runs."""
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def drain(self) -> None:
        """Stop taking messages; let replies in flight finish, cancelling those that run late.

        It must end before the client closes: closing it closes the session replies are sent on.
        """
        self.closing = True
        if not self.tasks:
            return
        _, late = await asyncio.wait(set(self.tasks), timeout=DRAIN_SECONDS)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)  # they only unwind now
