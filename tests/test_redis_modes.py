"""Redis modes without extra servers: URL forms, secrets kept out of messages, stale locks."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from core.errors import ConfigError
from core.keys import SessionKey, UserKey
from core.redis_modes import mode_of_scheme, parse_sentinel, redact
from core.redis_store import RedisStore
from core.settings import CoreSettings, load


def test_sentinel_url_forms() -> None:
    target = parse_sentinel("rediss+sentinel://u:p%40ss@h1:26379,[::1]:26380/my-primary/2")
    assert target.nodes == (("h1", 26379), ("::1", 26380))
    assert (target.service, target.db, target.username, target.password, target.ssl) == (
        "my-primary", 2, "u", "p@ss", True)
    assert parse_sentinel("redis+sentinel://h:1/s").password is None
    assert mode_of_scheme("redis+sentinel://h:1/s") == "sentinel"
    assert mode_of_scheme("unix:///tmp/r.sock") == "standalone"
    assert mode_of_scheme("redis://h:1") is None


def test_redact_hides_passwords_in_every_form() -> None:
    assert redact("redis+sentinel://:s3cret@h1:1,h2:2/x") == "redis+sentinel://:***@h1:1,h2:2/x"
    assert redact("redis://u:s3cret@h:1/0") == "redis://u:***@h:1/0"
    assert "s3cret" not in redact("redis://u:s3cret@h:port/0")


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("SWITCHBOARD_REDIS_MODE", "sentinel", "SWITCHBOARD_REDIS_MODE: Input should be"),
    ("REDIS_URL", "http://x", "REDIS_URL: must start with redis://"),
])
def test_bad_values_name_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(CoreSettings, _env_file=None, **{variable: value})
    assert str(caught.value).startswith(expected)


async def test_a_lock_whose_release_was_lost_does_not_stall_the_conversation(
        redis: Redis, make_settings: Callable[..., CoreSettings]) -> None:
    # After a failover the new primary may still hold a lock that the old one freed.
    settings = make_settings()
    store = RedisStore(redis, settings.redis_prefix, 60, 200)
    await store.scripts.load(redis)
    user = UserKey.of("slack", "T1", "ana")
    session = SessionKey.direct(user)
    first = await store.open_turn(session, user, "t1", settings.rate_limit, 40)
    await store.release(session, first.lock_token)
    await redis.set(store.keys.session(str(session)).lock, first.lock_token, px=30_000)
    started = time.monotonic()
    second = await store.open_turn(session, user, "t2", settings.rate_limit, 40)
    assert time.monotonic() - started < 1
    await store.release(session, second.lock_token)
    # A lock held by anyone else is still respected.
    await redis.set(store.keys.session(str(session)).lock, "someone-else", px=300)
    started = time.monotonic()
    third = await store.open_turn(session, user, "t3", settings.rate_limit, 40)
    assert time.monotonic() - started >= 0.25
    await store.release(session, third.lock_token)
