"""A new user's journey on the HTTP API, end to end over loopback: the core built from a
configuration file (two presets, a persona, the test MCP server), the real ChatOpenAI against
the fake OpenAI. They list the models and personas, ask with `model` and `persona` set, read the
`tool` event while the docs lookup runs, get the answer, and regenerate it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.keys import SessionKey, UserKey
from tests.fakes.http_api import parse_sse, served
from tests.journey import AGAIN, ANSWER, QUESTION, Journey, journey

__all__ = ["journey"]
ANA = UserKey.of("api", "ana")  # the caller `served` signs in
RUNNING = ("tool", {"name": "docs__lookup", "state": "running"})


async def events_until(lines: Any, wanted: Callable[[tuple[str, Any]], bool]
                       ) -> list[tuple[str, Any]]:
    """Read SSE events off a response until a `wanted` one arrives; all read so far."""
    seen: list[tuple[str, Any]] = []
    block: list[str] = []
    async for line in lines:
        if line:
            block.append(line)
            continue
        if block:
            seen += parse_sse("\n".join(block) + "\n\n")
            block = []
        if any(wanted(event) for event in seen):
            return seen
    raise AssertionError(f"the stream ended before {wanted}: {seen}")


async def test_a_new_user_chooses_asks_with_a_tool_and_regenerates(journey: Journey) -> None:
    async with served(journey.service) as api:
        listed = (await api.get("/v1/models")).json()
        assert [m["name"] for m in listed["models"]] == ["default", "fast", "smart"]
        assert [p["name"] for p in listed["personas"]] == ["default", "pirate"]
        journey.ask()
        body = {"message": QUESTION, "model": "smart", "persona": "pirate"}
        async with api.stream("POST", "/v1/chat/stream", json=body) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            # The lookup is held open meanwhile: the tool's event comes, the answer does not.
            seen = await events_until(lines, lambda event: event == RUNNING)
            assert "done" not in [name for name, _ in seen]
            journey.open_gate()
            seen += await events_until(lines, lambda event: event[0] == "done")
        assert ("tool", {"name": "docs__lookup", "state": "done"}) in seen
        journey.check_answered()
        sid = seen[0][1]["session_id"]
        done = seen[-1][1]
        assert (done["session_id"], done["reply"], done["turn_count"]) == (sid, ANSWER, 1)
        again = await api.post(f"/v1/sessions/{sid}/regenerate",
                               headers={"Idempotency-Key": "press-1"})
        assert again.status_code == 200 and again.json()["reply"] == AGAIN
        await journey.check_regenerated(SessionKey.api(ANA, sid))
        history = (await api.get(f"/v1/sessions/{sid}/messages")).json()["messages"]
        assert [m["text"] for m in history] == [QUESTION, AGAIN]

