"""A bot process for cross-process tests: sends N turns into one conversation, prints outcomes.

Run as `python -m tests.fakes.turn_worker URL PREFIX RATE N TAG`; it waits for the key
`PREFIX go` so that every worker starts sending at the same moment.
"""

from __future__ import annotations

import asyncio
import json
import sys

from core.connect import client_for
from core.errors import RateLimited
from core.keys import SessionKey, Speaker, UserKey
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings
from tests.fakes.models import CountingModel


async def main(url: str, prefix: str, rate: str, count: int, tag: str) -> None:
    settings = CoreSettings(_env_file=None, REDIS_URL=url, SWITCHBOARD_REDIS_PREFIX=prefix,
                            SWITCHBOARD_RATE_LIMIT=rate)
    redis = client_for(url)
    store = RedisStore(redis, prefix, settings.history_ttl, settings.history_max_messages)
    await store.scripts.load(redis)
    service = ChatService(store, CountingModel(delay=0.05), settings)
    ana = Speaker(UserKey.of("slack", "T1", "ana"), "ana", "slack")
    session = SessionKey.direct(ana.user)
    print("ready", flush=True)
    while not await redis.exists(f"{prefix}go"):
        await asyncio.sleep(0.01)
    results = await asyncio.gather(
        *(service.reply(Turn(session, ana, f"{tag}-{i}")) for i in range(count)),
        return_exceptions=True)
    await redis.aclose()
    outcome = {"answered": sum(isinstance(r, str) for r in results),
               "limited": sum(isinstance(r, RateLimited) for r in results),
               "other": [repr(r) for r in results if isinstance(r, BaseException)
                         and not isinstance(r, RateLimited)]}
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    url, prefix, rate, count, tag = sys.argv[1:]
    asyncio.run(main(url, prefix, rate, int(count), tag))
