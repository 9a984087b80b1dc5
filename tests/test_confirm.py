"""Write tools wait for their asker's confirmation: asked once, run once, refused when late."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters import confirm as buttons_confirm
from adapters.terminal import Terminal
from core import confirm
from core.agent import Confirmation, ToolStatus
from core.confirm import DENIED, Pending
from core.errors import DuplicateTurn, NotYourConfirmation, UnknownConfirmation
from core.keys import SessionKey, Speaker, UserKey
from core.messages import StoredMessage
from core.service import ChatService, Turn
from core.tools import Toolbox
from tests.fakes.openai_server import FakeOpenAI, ToolCalls, tool_messages
from tests.fakes.redis_proxy import FlightProxy
from tests.test_tools import on_cue, toolbox

__all__ = ["toolbox"]
ANA = Speaker(UserKey.of("slack", "T1", "U1"), "Ana", "Slack")
BEN = Speaker(UserKey.of("slack", "T1", "U2"), "Ben", "Slack")
NOW = 1_760_000_000.0
WRITE = ToolCalls.of("docs__delete_note", id="7")


@pytest.mark.parametrize(("args", "shown"), [
    ({"id": "7"}, "delete_note(id=7)"),
    ({"n": 3, "tags": ["a", "b"]}, 'delete_note(n=3, tags=["a", "b"])'),
    ({"id": "line\nbreak\u202eevil\x1b[31m"}, "delete_note(id=line break evil [31m)"),
    ({"id": "x" * 100}, f"delete_note(id={'x' * 39}…)"),
    ({f"k{i}": "v" * 30 for i in range(9)}, None),  # clipped as a whole
])
def test_the_summary_is_one_short_safe_line(args: dict[str, Any], shown: str | None) -> None:
    text = confirm.summary("docs__delete_note", args)
    assert text.isprintable() and len(text) <= confirm.SUMMARY_CHARS
    if shown is not None:
        assert text == shown


def test_a_pending_call_survives_its_record() -> None:
    pending = confirm.asked("docs__delete_note", {"id": "7) (needs confirmation"}, NOW)
    assert pending is not None and confirm.parse(pending.record) == pending
    assert confirm.asked("docs__delete_note", {"id": "x" * 2000}, NOW) is None
    assert confirm.parse('docs__lookup {"topic": "x"} (done)') is None


def answered(pending: Pending, asker: UserKey) -> list[StoredMessage]:
    return [StoredMessage("human", "delete it", int(NOW), "Ana", str(asker)),
            StoredMessage("ai", "Confirm?", int(NOW), tools=(pending.record,))]


@pytest.mark.parametrize(("case", "error"), [
    ("mine", None), ("other user", NotYourConfirmation), ("expired", UnknownConfirmation),
    ("malformed", UnknownConfirmation), ("unknown", UnknownConfirmation),
    ("a turn came since", UnknownConfirmation)])
def test_finding_a_pending_call(case: str, error: type[Exception] | None) -> None:
    pending = confirm.asked("docs__delete_note", {"id": "7"}, NOW)
    assert pending is not None
    messages, wanted, user, now = answered(pending, ANA.user), pending.id, ANA.user, NOW + 5
    if case == "other user":
        user = BEN.user
    elif case == "expired":
        now = NOW + confirm.TTL + 1
    elif case == "malformed":
        wanted = "../" + pending.id
    elif case == "unknown":
        wanted = confirm.new_id(NOW)
    elif case == "a turn came since":
        messages += [StoredMessage("human", "hi", int(NOW)), StoredMessage("ai", "hello", int(NOW))]
    if error is None:
        assert confirm.find(messages, wanted, user, now) == pending
    else:
        with pytest.raises(error):
            confirm.find(messages, wanted, user, now)


async def ask(service: ChatService, session: SessionKey, speaker: Speaker = ANA) -> Confirmation:
    out = [p async for p in service.events(Turn(session, speaker, "delete note 7"))]
    [asked] = [p for p in out if isinstance(p, Confirmation)]
    return asked


async def answer(service: ChatService, session: SessionKey, asked: Confirmation,
                 approve: bool, speaker: Speaker = ANA) -> list[str | ToolStatus]:
    return [p async for p in service.confirm(session, speaker, asked.id, approve, "press-1")]


def ran(tmp_path: Path) -> list[str]:
    calls = tmp_path / "calls"
    return calls.read_text().splitlines() if calls.exists() else []


async def test_approving_runs_the_call_once_and_the_answer_goes_on(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    session = SessionKey.channel("slack", "T1", "C1")
    openai_fake.answer = on_cue(WRITE, "Deleted note 7.")
    asked = await ask(llm_service, session)
    assert ran(tmp_path) == [] and len(openai_fake.requests) == 1
    out = await answer(llm_service, session, asked, approve=True)
    assert ran(tmp_path) == ["delete_note 7"]
    assert ToolStatus("docs__delete_note", "done") in out
    assert "".join(p for p in out if isinstance(p, str)) == "Deleted note 7."
    follow = openai_fake.requests[-1]
    [result] = tool_messages(follow)
    assert result["content"] == "deleted 7"
    [call] = [m for m in follow["messages"] if m.get("tool_calls")]
    assert call["tool_calls"][0]["id"] == result["tool_call_id"]
    assert follow["messages"][0]["role"] == "system"
    assert "delete_note" not in follow["messages"][0]["content"]  # model text: never system
    stored = await llm_service.history(session)
    assert [(m.role, m.text) for m in stored[2:]] == [
        ("human", "Approved: run delete_note(id=7)."), ("ai", "Deleted note 7.")]
    assert stored[3].tools == ('docs__delete_note {"id": "7"} (done)',)
    for again in (True, False):  # answered once, however often or however it is pressed
        with pytest.raises(DuplicateTurn):
            await answer(llm_service, session, asked, approve=again)
    assert ran(tmp_path) == ["delete_note 7"] and len(await llm_service.history(session)) == 4


async def test_denying_tells_the_model_and_runs_nothing(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    session = SessionKey.direct(ANA.user)
    openai_fake.answer = on_cue(WRITE, "Fine, I left note 7 alone.")
    asked = await ask(llm_service, session)
    out = await answer(llm_service, session, asked, approve=False)
    assert ToolStatus("docs__delete_note", "denied") in out
    assert "".join(p for p in out if isinstance(p, str)) == "Fine, I left note 7 alone."
    [result] = tool_messages(openai_fake.requests[-1])
    assert result["content"] == DENIED
    assert ran(tmp_path) == []


async def test_only_the_asker_and_only_in_time(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    session = SessionKey.channel("slack", "T1", "C2")
    openai_fake.answer = on_cue(WRITE, "Deleted.")
    asked = await ask(llm_service, session)
    with pytest.raises(NotYourConfirmation):
        await answer(llm_service, session, asked, approve=True, speaker=BEN)
    llm_service.confirm_ttl = -1
    with pytest.raises(UnknownConfirmation):
        await answer(llm_service, session, asked, approve=True)
    llm_service.confirm_ttl = confirm.TTL
    openai_fake.answer = on_cue("Something else.")
    await llm_service.reply(Turn(session, BEN, "hello"))  # a turn came since: too late
    with pytest.raises(UnknownConfirmation):
        await answer(llm_service, session, asked, approve=True)
    assert ran(tmp_path) == [] and len(await llm_service.history(session)) == 4


async def test_an_approved_call_cut_short_is_kept_so_it_never_runs_twice(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    session = SessionKey.direct(BEN.user)
    openai_fake.answer = on_cue(WRITE, "Deleted.")
    asked = await ask(llm_service, session, BEN)
    stream = llm_service.confirm(session, BEN, asked.id, True, "p")
    async for piece in stream:
        if piece == ToolStatus("docs__delete_note", "done"):
            break
    await stream.aclose()  # the user left before the model said anything
    stored = await llm_service.history(session)
    assert stored[-1].text == "(Ran delete_note; the answer was cut short.)"
    with pytest.raises(DuplicateTurn):
        await answer(llm_service, session, asked, approve=True, speaker=BEN)
    assert ran(tmp_path) == ["delete_note 7"]


@pytest.mark.parametrize("interactive", [True, False])
async def test_switchboard_chat_asks_y_or_n(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI, tmp_path: Path,
        interactive: bool) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(WRITE, "Deleted note 7.", WRITE, "Kept it.")
    out = io.StringIO()
    terminal = Terminal(llm_service, f"cara{interactive}", out, interactive)
    for line in (b"delete note 7\n", b"y\n", b"delete it again\n", b"\n"):
        assert await terminal.handle(line)
    text = out.getvalue()
    assert text.count("Run delete_note(id=7)? [y/N]") == 2
    assert "Deleted note 7." in text and text.rstrip().endswith("Kept it.")
    assert ran(tmp_path) == ["delete_note 7"]  # the empty answer refused the second
    assert tool_messages(openai_fake.requests[-1])[-1]["content"] == DENIED


@pytest.mark.parametrize(("data", "parsed"), [
    ("cf:y:0123456789abcdef01", ("0123456789abcdef01", True)),
    ("cf:n:0123456789abcdef01", ("0123456789abcdef01", False)),
    ("cf:x:0123456789abcdef01", None), ("cf:y:0123456789ABCDEF01", None),
    ("cf:y:0123456789abcdef01 ", None), ("cf:y:0123456789abcdef01\n", None),
    ("re:last:abc", None), ("", None)])
def test_press_data(data: str, parsed: tuple[str, bool] | None) -> None:
    assert buttons_confirm.parse_press(data) == parsed
    if parsed is not None:
        assert buttons_confirm.press_data(*parsed) == data and len(data.encode()) <= 64


async def test_a_press_is_refused_before_anything_streams_or_answered(
        toolbox: Toolbox, llm_service: ChatService, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    session = SessionKey.channel("telegram", "-100")
    openai_fake.answer = on_cue(WRITE, "Deleted note 7.")
    asked = await ask(llm_service, session)
    approve, deny = buttons_confirm.buttons(asked)
    assert (approve.label, deny.label) == ("Approve", "Deny")
    assert buttons_confirm.question(asked) == "Run delete_note(id=7)?"
    pressed = await buttons_confirm.confirmed(llm_service, session, BEN, asked.id, True, "p1")
    assert pressed == buttons_confirm.Pressed(None, NotYourConfirmation.user_message)
    pressed = await buttons_confirm.confirmed(llm_service, session, ANA, asked.id, True, "p2")
    assert pressed.answer is not None
    pieces = [p async for p in pressed.answer]
    assert "".join(p for p in pieces if isinstance(p, str)) == "Deleted note 7."
    again = await buttons_confirm.confirmed(llm_service, session, ANA, asked.id, False, "p3")
    assert again == buttons_confirm.Pressed(None, "")  # answered already: say nothing
    assert ran(tmp_path) == ["delete_note 7"]


async def test_asking_and_confirming_are_two_round_trips_each(
        toolbox: Toolbox, make_llm_service: Callable[..., Awaitable[ChatService]],
        openai_fake: FakeOpenAI, redis_url: str) -> None:
    # The pending call rides in the asking turn's commit and comes back with the open.
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = FlightProxy("127.0.0.1", port)
    await proxy.start()
    client = Redis.from_url(f"redis://127.0.0.1:{proxy.port}/0", decode_responses=True)
    try:
        service = await make_llm_service(client)
        service.tools = toolbox.tools
        session = SessionKey.direct(ANA.user)
        openai_fake.answer = on_cue("hello", WRITE, "Deleted note 7.")
        await service.reply(Turn(session, ANA, "warm up"))  # connect outside the count
        proxy.flights = 0
        asked = await ask(service, session)
        assert proxy.flights == 2
        assert "".join([p async for p in service.confirm(session, ANA, asked.id, True, "p")
                        if isinstance(p, str)]) == "Deleted note 7."
        assert proxy.flights == 4
    finally:
        await client.aclose()
        await proxy.stop()
