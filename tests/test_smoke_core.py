"""A first end-to-end turn through the core on a real Redis."""

from core.keys import SessionKey, Speaker, UserKey
from core.service import ChatService, Turn


async def test_two_turns_remember(service: ChatService) -> None:
    ana = Speaker(UserKey.of("cli", "ana"), "Ana", "a terminal")
    session = SessionKey.direct(ana.user)
    await service.reply(Turn(session, ana, "my name is Ana"))
    second = await service.reply(Turn(session, ana, "who am I?"))
    assert "“my name is Ana”" in second
    assert [m.text for m in await service.history(session)][::2] == ["my name is Ana", "who am I?"]
