"""Linking on a Redis Cluster: codes on one slot, links on each identity's, TTLs on all."""

from __future__ import annotations

import pytest

from core.erasure import INDEX_MARGIN_S
from core.keys import SessionKey
from tests.store_checks import Env, person
from tests.test_cluster import cluster, env

__all__ = ["cluster", "env"]  # the same module-scoped cluster fixture as test_cluster

pytestmark = pytest.mark.timeout(90)


async def test_linking_shares_a_dm_keeps_ttls_and_forget_leaves_nothing(env: Env) -> None:
    from core.service import Turn

    first = await env.service(SWITCHBOARD_LINKED_DMS="shared")
    second = await env.service(SWITCHBOARD_LINKED_DMS="shared")  # another process
    ana, ann = person("ana"), person("ann")
    await second.reply(Turn(SessionKey.direct(ann.user), ann, "before"))
    code = await first.link_code(ana.user)
    assert len((await second.link(ann.user, code.code)).identities) == 2
    await first.reply(Turn(SessionKey.direct(ana.user), ana, "one conversation"))
    await second.reply(Turn(SessionKey.direct(ann.user), ann, "on every platform"))
    texts = [m.text for m in await first.history(SessionKey.direct(ana.user))][::2]
    assert texts == ["one conversation", "on every platform"]
    stored = env.stored()
    # A month's token count lives to the month's end; everything else at most the history's TTL
    # (a person's index and epoch an hour more: they outlive what they list).
    assert all(0 < ttl <= (32 * 86400 if ":use:m:" in k else 7 * 86400 + INDEX_MARGIN_S)
               for k, ttl in stored.items())
    await second.forget(ana.user)
    assert env.stored() == {} or all("{links}:g:" in k for k in env.stored()), env.stored()
