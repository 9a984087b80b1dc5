"""The shared answer and press flows (`adapters.answers`), on an in-memory platform.

The service is real (real Redis, real ChatOpenAI against the fake model); only the platform is
an in-memory `Surface` and `Pressing` that record what a chat platform would be asked to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import pytest

from adapters import answers, confirm, regenerate
from adapters.answers import Button, Last, Presser
from adapters.failures import Notice
from adapters.pager import Piece, Watched
from adapters.regenerate import Press
from core.agent import Confirmation
from core.errors import UNEXPECTED, DuplicateTurn, NotLastAnswer
from core.keys import SessionKey, Speaker, UserKey
from core.service import ChatService, Turn
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI

ANA = UserKey.of("telegram", 11)
SPEAKER = Speaker(ANA, "Ana", "Telegram")
SESSION = SessionKey.direct(ANA)
ASKED = Confirmation("0123456789abcdef01", "delete_note(id=7)")


@dataclass
class Platform:
    """What a platform was asked to do, in order."""

    did: list[tuple[str, object]] = field(default_factory=list)
    keep_partial: bool = False

    async def show(self, pieces: AsyncGenerator[Piece, None], /) -> Last | None:
        text = "".join([p async for p in pieces if isinstance(p, str)])
        self.did.append(("show", text))
        return ("m1", text)

    async def say(self, said: Notice, /) -> None:
        self.did.append(("say", said.text))

    async def mark(self, last: Last, buttons: Sequence[Button], /) -> None:
        self.did.append(("mark", tuple(b.label for b in buttons)))

    async def alert(self, text: str, /) -> None:
        self.did.append(("alert", text))

    async def ack(self) -> None:
        self.did.append(("ack", None))

    async def unmark(self) -> None:
        self.did.append(("unmark", None))

    def turn_id(self, target: str) -> str:
        return f"chat:{target}"

    def surface(self, question: str | None, /) -> Platform:
        self.did.append(("surface", question))
        return self

    def names(self) -> list[str]:
        return [what for what, _ in self.did]


async def pieces(*items: Piece | Exception) -> AsyncGenerator[Piece, None]:
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item


@pytest.mark.parametrize(("asked", "question", "labels"), [
    (None, "42", (regenerate.LABEL,)),
    (None, None, ()),  # a confirmed tool's answer answers no message: nothing to regenerate
    (ASKED, "42", (confirm.APPROVE, confirm.DENY)),
    (ASKED, None, (confirm.APPROVE, confirm.DENY)),
])
def test_which_buttons_a_finished_answer_gets(asked: Confirmation | None, question: str | None,
                                              labels: tuple[str, ...]) -> None:
    seen = Watched(pieces("hi"))
    seen.asked = asked
    got = answers.offers(seen, question, "7")
    assert tuple(b.label for b in got) == labels
    if labels == (regenerate.LABEL,):
        press = Press.parse(got[0].data)
        assert press is not None and (press.target, press.asker) == ("42", "7")


@pytest.mark.parametrize(("stream", "did"), [
    (pieces("Hel", "lo"), [("show", "Hello"), ("mark", (regenerate.LABEL,))]),
    (pieces("Hel", DuplicateTurn("t")), []),  # a redelivery: nothing said
    (pieces("Hel", NotLastAnswer()), [("say", NotLastAnswer.user_message)]),
])
async def test_what_an_answer_shows_and_says(stream: AsyncGenerator[Piece, None],
                                             did: list[tuple[str, object]]) -> None:
    platform = Platform()
    await answers.reply(platform, stream, question="42", asker="7", where="test")
    assert platform.did == did


async def test_a_bug_is_an_apology_with_a_reference() -> None:
    platform = Platform()
    await answers.reply(platform, pieces("x", RuntimeError("boom")), question="1", asker="7",
                        where="test")
    (what, text), = platform.did
    assert what == "say" and str(text).startswith(UNEXPECTED) and "ref " in str(text)


def presser(user: str = "11") -> Presser:
    return Presser.known(user, SESSION, SPEAKER)


async def test_regenerate_pressed_by_someone_else_is_refused_at_once(
        llm_service: ChatService) -> None:
    platform, asked = Platform(), []

    async def looked_up() -> Speaker:  # a platform request (users.info, getChatMember)
        asked.append("12")
        return SPEAKER
    data = Press.fresh("5", "11").data
    stranger = Presser("12", SESSION, looked_up)
    assert await answers.pressed(llm_service, data, stranger, platform, where="t") is None
    assert platform.did == [("alert", regenerate.NOT_YOURS)]
    assert asked == [], "refused before anything about the presser was asked"


async def test_regenerate_answers_again_and_retires_the_old_button(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: f"take {len(openai_fake.requests)}"
    await llm_service.reply(Turn(SESSION, SPEAKER, "colour?", "chat:5"))
    platform = Platform()
    seen = await answers.pressed(llm_service, Press.fresh("5", "11").data, presser(),
                                 platform, where="t")
    assert seen is not None and seen.done
    assert platform.names() == ["ack", "surface", "show", "mark", "unmark"]
    assert ("show", "take 2") in platform.did and ("surface", "5") in platform.did
    assert [m.text for m in await llm_service.history(SESSION)] == ["colour?", "take 2"]


async def test_an_unknown_press_is_only_acknowledged_and_a_stale_confirm_is_told(
        llm_service: ChatService) -> None:
    platform = Platform()
    assert await answers.pressed(llm_service, "zz:1", presser(), platform, where="t") is None
    stale = confirm.press_data("0123456789abcdef01", True)
    assert await answers.pressed(llm_service, stale, presser(), platform, where="t") is None
    assert platform.did[0] == ("alert", "")
    assert platform.did[1][0] == "alert" and "expired" in str(platform.did[1][1])


async def test_a_slow_check_has_the_press_acknowledged_before_its_outcome(
        llm_service: ChatService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "ANSWER_PRESS_WITHIN", 0.01)
    platform, let_go = Platform(), asyncio.Event()

    async def slow() -> Speaker:  # a platform lookup, or the core waiting for a slow Redis
        await let_go.wait()
        return SPEAKER
    stale = confirm.press_data("0123456789abcdef01", True)
    pressing = asyncio.create_task(
        answers.pressed(llm_service, stale, Presser("11", SESSION, slow), platform, where="t"))
    await wait_for(lambda: platform.did)
    assert platform.did == [("ack", None)], "acknowledged while the check still waits"
    let_go.set()
    assert await pressing is None
    assert platform.names() == ["ack", "alert"] and "expired" in str(platform.did[1][1])


async def test_a_confirm_press_that_cannot_start_a_turn_tells_the_presser_why(
        make_llm_service: Callable[..., Awaitable[ChatService]]) -> None:
    service = await make_llm_service(SWITCHBOARD_RATE_LIMIT="1/minute")
    await service.reply(Turn(SESSION, SPEAKER, "hi", "chat:1"))
    platform = Platform()
    data = confirm.press_data("0123456789abcdef01", True)
    assert await answers.pressed(service, data, presser(), platform, where="t") is None
    (what, text), = platform.did
    assert what == "alert" and str(text).startswith("You're sending messages a bit fast.")
