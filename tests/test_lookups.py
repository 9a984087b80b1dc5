"""`adapters.lookups`: one request per key, kept; a failure or a slow platform gives the fallback,
asked again sooner."""

from __future__ import annotations

import asyncio

import pytest

from adapters.lookups import Lookups


class Platform:
    """Answers `name-<key>`; fails or hangs while told to."""

    def __init__(self) -> None:
        self.asked: list[int] = []
        self.failing, self.hanging = False, False

    async def ask(self, key: int) -> str:
        self.asked.append(key)
        if self.hanging:
            await asyncio.sleep(10)
        if self.failing:
            raise ConnectionError("down")
        return f"name-{key}"


def lookups(platform: Platform, **options: float) -> Lookups[int, str]:
    return Lookups(platform.ask, lambda key: f"id-{key}", (ConnectionError,), what="test",
                   **options)


async def test_asked_once_then_kept_until_it_expires() -> None:
    platform = Platform()
    names = lookups(platform, ttl=0.2)
    assert [await names(1), await names(1), await names(2)] == ["name-1", "name-1", "name-2"]
    assert platform.asked == [1, 2]
    await asyncio.sleep(0.25)
    assert await names(1) == "name-1" and platform.asked == [1, 2, 1]


async def test_a_failure_gives_the_fallback_and_is_asked_again_sooner() -> None:
    platform = Platform()
    names = lookups(platform, ttl=60, failed_ttl=0.1)
    platform.failing = True
    assert [await names(1), await names(1)] == ["id-1", "id-1"]
    assert platform.asked == [1], "a failure is kept too, for a while"
    platform.failing = False
    await asyncio.sleep(0.15)
    assert await names(1) == "name-1" and platform.asked == [1, 1]


async def test_a_slow_platform_is_not_waited_for() -> None:
    platform = Platform()
    platform.hanging = True
    names = lookups(platform, timeout=0.05)
    async with asyncio.timeout(1):
        assert await names(7) == "id-7"


async def test_an_unexpected_error_is_not_hidden() -> None:
    async def broken(key: int) -> str:
        raise KeyError(key)
    names: Lookups[int, str] = Lookups(broken, str, (ConnectionError,), what="test")
    with pytest.raises(KeyError):
        await names(1)
