"""The streaming pager: its pure plan, table by table, and the Pager against an in-memory chat."""

from __future__ import annotations

import asyncio
import itertools
import textwrap
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence

import pytest

from adapters import answers
from adapters.answers import Button, Last
from adapters.failures import Notice
from adapters.pager import Pager, Piece, Platform
from adapters.pager import status_line as pager_status
from adapters.paging import (
    Action,
    Delete,
    Edit,
    Pace,
    Rendered,
    Send,
    SentState,
    Shown,
    Wait,
    plan,
)
from core.agent import ToolStatus
from core.errors import DuplicateTurn, ModelError

NOW = 100.0


def split_plain(text: str, limit: int) -> list[Rendered[str]]:
    """A stand-in render: each paragraph's words wrapped into messages of at most `limit`."""
    return [Rendered(done=p, growing=p) for paragraph in text.split("\n\n")
            for p in textwrap.wrap(paragraph, limit)]


def same(*parts: str) -> list[Rendered[str]]:
    return [Rendered(done=p, growing=p) for p in parts]


def styled(*parts: str) -> list[Rendered[str]]:
    """Parts whose final form is upper case, as if formatting were applied once finished."""
    return [Rendered(done=p.upper(), growing=p) for p in parts]


def sent(*parts: str, ago: float = 10.0) -> SentState[str, str]:
    return SentState(tuple(Shown(f"m{i}", p) for i, p in enumerate(parts)), last=NOW - ago)


CASES: list[tuple[str, list[Rendered[str]], SentState[str, str], bool, Pace,
                  list[Action[str, str]]]] = [
    ("first chunk is sent at once", same("hi"), sent(ago=float("inf")), False, Pace(1.0),
     [Send(0, "hi")]),
    ("first chunk shows its growing form", styled("hi"), SentState(), False, Pace(1.0),
     [Send(0, "hi")]),
    ("growth within the interval waits for the next piece", same("hi there"),
     sent("hi", ago=0.5), False, Pace(1.0), []),
    ("growth past the interval is one edit", same("hi there"), sent("hi", ago=1.0), False,
     Pace(1.0), [Edit(0, "m0", "hi there")]),
    ("an unchanged answer makes no request", same("hi"), sent("hi"), False, Pace(1.0), []),
    ("past the limit: the first message shrinks before the next is sent",
     same("aa", "bb"), sent("aa bb"), False, Pace(1.0), [Edit(0, "m0", "aa")]),
    ("past the limit with a burst of two: edit, then send", same("aa", "bb"), sent("aa bb"),
     False, Pace(1.0, burst=2), [Edit(0, "m0", "aa"), Send(1, "bb")]),
    ("text that moved on is sent once the first message let go of it", same("aa", "bb"),
     sent("aa"), False, Pace(1.0), [Send(1, "bb")]),
    ("a finished message gets its final form while the next grows", styled("aa", "bb"),
     sent("aa", "bb"), False, Pace(1.0), [Edit(0, "m0", "AA")]),
    ("only the changed message is edited", same("a", "B", "c"), sent("a", "b", "c"), False,
     Pace(1.0, burst=5), [Edit(1, "m1", "B")]),
    ("the final pass formats the last message", styled("aa", "bb"), sent("AA", "bb"), True,
     Pace(1.0), [Edit(1, "m1", "BB")]),
    ("a throttled final pass says how long to wait", styled("aa"), sent("aa", ago=0.25), True,
     Pace(1.0), [Wait(0.75)]),
    ("a final pass with nothing left does nothing", styled("aa", "bb"), sent("AA", "BB"), True,
     Pace(1.0), []),
    ("a re-split needing fewer messages deletes the extra first", same("aa bb"),
     sent("aa", "bb"), True, Pace(1.0, burst=3), [Delete("m1"), Edit(0, "m0", "aa bb")]),
    ("an answer that became empty deletes what was shown", [], sent("aa"), True, Pace(1.0),
     [Delete("m0")]),
    ("an empty answer sends nothing", [], SentState(), True, Pace(1.0), []),
    ("a zero interval never throttles", same("ab"), sent("a", ago=0.0), False, Pace(0.0),
     [Edit(0, "m0", "ab")]),
]


@pytest.mark.parametrize(("parts", "state", "final", "pace", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_plan(parts: list[Rendered[str]], state: SentState[str, str], final: bool, pace: Pace,
              expected: list[Action[str, str]]) -> None:
    assert plan(parts, state, final=final, now=NOW, pace=pace) == expected


class Chat:
    """An in-memory platform: messages by id, every request recorded with what it left shown."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock, self.times = clock, list[float]()
        self.messages: dict[int, str] = {}
        self.requests: list[tuple[str, int]] = []
        self.views: list[list[str]] = []
        self.ids = itertools.count(1)

    async def send(self, part: str) -> int:
        message_id = next(self.ids)
        self.messages[message_id] = part
        self._record("send", message_id)
        return message_id

    async def edit(self, message_id: int, part: str) -> None:
        self.messages[message_id] = part
        self._record("edit", message_id)

    async def delete(self, message_id: int) -> None:
        del self.messages[message_id]
        self._record("delete", message_id)

    def _record(self, kind: str, message_id: int) -> None:
        self.requests.append((kind, message_id))
        self.times.append(self.clock.now if self.clock else 0.0)
        self.views.append(list(self.messages.values()))


class Clock:
    """Time that moves only when told to, or when the pager sleeps."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def pager(chat: Platform[str, int], clock: Clock, interval: float = 1.0,
          limit: int = 40) -> Pager[str, int]:
    return Pager(chat, split_plain, limit=limit, pace=Pace(interval), clock=clock,
                 sleep=clock.sleep)


async def pieces(words: Sequence[str], clock: Clock, step: float) -> AsyncIterator[str]:
    for word in words:
        clock.now += step
        yield word + " "


async def test_a_long_answer_streams_into_messages_and_no_word_is_ever_shown_twice() -> None:
    chat, clock = Chat(), Clock()
    words = [f"w{i:02d}" for i in range(60)]
    answer = await pager(chat, clock).run(pieces(words, clock, 0.3))
    assert list(chat.messages.values()) == [r.done for r in split_plain(answer, 40)]
    for view in chat.views:
        shown = " ".join(view).split()
        assert len(shown) == len(set(shown)), view
    assert " ".join(chat.messages.values()).split() == words


async def test_requests_keep_to_the_interval_also_in_the_final_pass() -> None:
    clock = Clock()
    chat = Chat(clock)
    box = pager(chat, clock, interval=1.0)
    await box.show("hello")
    clock.now += 0.2
    await box.show("hello world")  # throttled: nothing yet
    assert chat.requests == [("send", 1)]
    await box.finish("hello world, finished")
    assert chat.messages == {1: "hello world, finished"} and clock.slept == pytest.approx(0.8)
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(chat.times))


async def test_a_re_split_needing_fewer_messages_deletes_the_extra() -> None:
    chat, clock = Chat(), Clock()
    layouts = {"early": ["first", "second"], "late": ["first second"]}
    box: Pager[str, int] = Pager(chat, lambda text, limit: same(*layouts[text]), limit=40,
                                 pace=Pace(0.0, burst=5), clock=clock, sleep=clock.sleep)
    await box.show("early")
    await box.finish("late")
    assert chat.requests[-2:] == [("delete", 2), ("edit", 1)]
    assert chat.messages == {1: "first second"} and box.message_ids == [1]


async def test_finished_messages_get_their_final_form() -> None:
    chat, clock = Chat(), Clock()

    def render(text: str, limit: int) -> list[Rendered[str]]:
        return [Rendered(done=f"<b>{p.done}</b>", growing=p.done) for p in split_plain(text, limit)]

    box: Pager[str, int] = Pager(chat, render, limit=16, pace=Pace(0.0), clock=clock,
                                 sleep=clock.sleep)
    await box.show("one two")
    assert chat.messages == {1: "one two"}
    await box.show("one two\n\nthree four five six")
    assert chat.messages == {1: "<b>one two</b>"}  # one request a step: the finished part first
    await box.finish("one two\n\nthree four five six")
    assert chat.messages == {1: "<b>one two</b>", 2: "<b>three four five</b>", 3: "<b>six</b>"}


class Paged:
    """The pager as an answer's `Surface`, as a platform uses it; notices go to `say`."""

    def __init__(self, paged: Pager[str, int], say: Callable[[str], Awaitable[None]]) -> None:
        self.paged, self.tell = paged, say

    async def show(self, pieces: AsyncGenerator[Piece, None], /) -> Last | None:
        await self.paged.run(pieces)
        return self.paged.last_message()

    async def say(self, said: Notice, /) -> None:
        await self.tell(said.text)

    async def mark(self, last: Last, buttons: Sequence[Button], /) -> None:
        """No buttons: only what a failure says is looked at here."""


async def failing(first: str, error: Exception, events: list[str]) -> AsyncGenerator[str, None]:
    try:
        if first:
            yield first
        raise error
    finally:
        events.append("closed")


@pytest.mark.parametrize(("first", "error", "said"), [
    ("half an answer", ModelError(), [ModelError.user_message]),
    ("", ModelError(), [ModelError.user_message]),
    ("", DuplicateTurn("t1"), []),
])
async def test_answer_ends_a_failed_turn_with_its_notice_after_closing_the_stream(
        first: str, error: Exception, said: list[str]) -> None:
    chat, clock, events = Chat(), Clock(), list[str]()

    async def say(text: str) -> None:
        events.append(f"said {text}")

    await answers.reply(Paged(pager(chat, clock), say), failing(first, error, events),
                        question=None, asker="1", where="test")
    assert events == ["closed", *(f"said {text}" for text in said)]
    assert list(chat.messages.values()) == ([first] if first else [])


async def test_answer_of_a_bug_apologises_with_a_request_id() -> None:
    events: list[str] = []

    async def say(text: str) -> None:
        events.append(text)

    await answers.reply(Paged(pager(Chat(), Clock()), say), failing("", KeyError("x"), []),
                        question=None, asker="1", where="test")
    assert len(events) == 1 and "(ref " in events[0]


async def test_a_running_tool_shows_under_the_answer_and_is_gone_from_its_final_form() -> None:
    chat, clock = Chat(), Clock()

    async def shown(views: int) -> None:  # the model is slower than the chat: let it catch up
        for _ in range(100):
            if len(chat.views) >= views:
                return
            await asyncio.sleep(0)

    async def events() -> AsyncIterator[str | ToolStatus]:
        yield "Let me look."
        await shown(1)
        clock.now += 2
        yield ToolStatus("docs__lookup_topic", "running")
        await shown(2)
        clock.now += 2
        yield ToolStatus("docs__lookup_topic", "done")
        clock.now += 2
        yield " Found it."

    box: Pager[str, int] = Pager(chat, lambda text, limit: same(text), limit=4000,
                                 pace=Pace(1.0), clock=clock, sleep=clock.sleep)
    assert await box.run(events()) == "Let me look. Found it."
    assert ["Let me look.\n\n_Using docs lookup topic…_"] in chat.views
    assert list(chat.messages.values()) == ["Let me look. Found it."]
    assert pager_status(ToolStatus("x", "failed")) == ""
