"""The shared inbox (adapters/inbox.py) on a real Redis: claims, redeliveries, cut-off answers."""

from __future__ import annotations

import asyncio
import json

import pytest
from redis.asyncio import Redis

from adapters.inbox import Busy, Keeper, RedisInbox
from adapters.slack.inbox import erase_user
from core.keys import UserKey


@pytest.fixture
def inbox(redis: Redis, prefix: str) -> RedisInbox:
    return RedisInbox(redis, prefix, "test")


async def test_a_claim_hides_the_entries_from_other_claims_until_they_are_old_again(
        inbox: RedisInbox) -> None:
    await inbox.put("1", "a")
    await inbox.put("2", "b")
    await asyncio.sleep(0.25)
    assert await inbox.claim(0.2) == [("1", "a"), ("2", "b")]
    assert await inbox.claim(0.2) == []  # another replica at the same moment: nothing
    assert await inbox.pending(0) == [("1", "a"), ("2", "b")]  # still kept until acked
    await asyncio.sleep(0.25)
    assert await inbox.claim(0.2) == [("1", "a"), ("2", "b")]  # the claimer died: again


async def test_concurrent_claims_share_nothing(redis: Redis, prefix: str) -> None:
    replicas = [RedisInbox(redis, prefix, "test") for _ in range(4)]
    for i in range(50):
        await replicas[0].put(str(i), f"p{i}")
    await asyncio.sleep(0.25)
    claims = await asyncio.gather(*(r.claim(0.2, limit=20) for r in replicas))
    ids = [event_id for claim in claims for event_id, _ in claim]
    assert sorted(ids, key=int) == [str(i) for i in range(50)]


async def test_platforms_have_their_own_keys_in_one_slot(redis: Redis, prefix: str) -> None:
    slack, discord = RedisInbox(redis, prefix, "slack"), RedisInbox(redis, prefix, "discord")
    await slack.put("1", "s")
    assert await discord.pending(0) == []
    assert {k.split("}")[0] for k in slack.keys} == {f"{prefix}{{in:slack"}


@pytest.mark.parametrize(("copies", "finished", "acked"), [
    (1, [True], True),          # answered
    (1, [False], False),        # cut off by a stop: left for the replay
    (2, [True], False),         # a redelivery ended while the first copy still answers
    (2, [True, True], True),
    (2, [True, False], False),  # the last copy to end was cut off
])
async def test_an_event_is_acknowledged_when_its_last_copy_ended_normally(
        inbox: RedisInbox, copies: int, finished: list[bool], acked: bool) -> None:
    keeper = Keeper(inbox, "test")
    await keeper.put("e", "payload")
    for _ in range(copies):
        keeper.enter("e")
    for handled in finished:
        await keeper.leave("e", handled)
    assert (await inbox.pending(0) == []) is acked


async def test_handling_acks_after_a_failure_but_not_after_a_cancel(inbox: RedisInbox) -> None:
    keeper = Keeper(inbox, "test")
    await keeper.put("failed", "p")
    with pytest.raises(RuntimeError):
        async with keeper.handling("failed"):
            raise RuntimeError("the answer failed; the user was told")
    await keeper.put("cut", "p")

    async def answer() -> None:
        async with keeper.handling("cut"):
            await asyncio.sleep(10)
    task = asyncio.create_task(answer())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await inbox.pending(0) == [("cut", "p")]


async def test_a_replay_skips_what_this_process_is_still_answering(inbox: RedisInbox) -> None:
    keeper, replayed = Keeper(inbox, "test", replay_after=0.01), []
    await keeper.put("busy", "a")
    await keeper.put("lost", "b")
    keeper.enter("busy")
    await asyncio.sleep(0.02)

    async def handle(event_id: str, payload: str) -> None:
        replayed.append(event_id)
    assert await keeper.replay_once(handle) == 1
    assert replayed == ["lost"]


def test_busy_counts_copies() -> None:
    busy = Busy()
    busy.enter("a")
    busy.enter("a")
    assert "a" in busy and not busy.leave("a")
    assert busy.leave("a") and "a" not in busy


async def test_a_released_claim_is_there_for_the_next_claim_at_once(inbox: RedisInbox) -> None:
    await inbox.put("1", "a")
    await asyncio.sleep(0.25)
    assert await inbox.claim(0.2) == [("1", "a")]
    await inbox.release("1", 0.2)  # not this replica's to answer (another shard's guild)
    assert await inbox.claim(0.2) == [("1", "a")]
    await inbox.release("404", 0.2)  # an acknowledged entry is not brought back
    assert await inbox.pending(0) == [("1", "a")]


async def test_forget_removes_the_pending_slack_events_a_person_sent(
        redis: Redis, prefix: str) -> None:
    inbox = RedisInbox(redis, prefix, "slack")
    for eid, team, user in (("Ev1", "T1", "U1"), ("Ev2", "T1", "U2"), ("Ev3", "T2", "U1")):
        await inbox.put(eid, json.dumps({"type": "event_callback", "team_id": team,
                                         "event": {"user": user, "text": f"secret {eid}"}}))
    await inbox.put("Ev4", "not json")
    assert await erase_user(inbox, UserKey.of("slack", "T1", "U1")) == 1
    assert [eid for eid, _ in await inbox.pending(0)] == ["Ev2", "Ev3", "Ev4"]
    assert await erase_user(inbox, UserKey.of("telegram", "5")) == 0
