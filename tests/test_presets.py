"""Model presets and personas per conversation, and fallbacks, with the real ChatOpenAI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from core.config import load_file
from core.errors import ConfigError, UnknownChoice
from core.keys import SessionKey, Speaker, UserKey
from core.metrics import TurnMetrics
from core.service import ChatService, Turn, TurnRecord
from tests.fakes.http_api import served
from tests.fakes.openai_server import FakeOpenAI

ANA = UserKey.of("discord", 7)
DM = SessionKey.direct(ANA)
GUILD = SessionKey.channel_member("discord", 1, 2, user=ANA)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "switchboard.toml"
    path.write_text(text)
    return path


FILE = """
[models.fast]
model = "fast-model"
description = "Quick answers"
[models.smart]
model = "smart-model"
api_key_env = "SMART_API_KEY"
fallbacks = ["fast"]
[personas.pirate]
description = "Talks like a pirate"
prompt = "You are a helpful assistant who talks like a pirate."
[platforms."discord:1"]
models = ["fast"]
"""


@pytest.fixture
async def presets(make_presets: Callable[[str], Awaitable[ChatService]]) -> ChatService:
    return await make_presets(FILE)

def turn(text: str, session: SessionKey = DM) -> Turn:
    return Turn(session, Speaker(ANA, "Ana", "Discord"), text)


def sent(fake: FakeOpenAI) -> dict[str, Any]:
    return fake.requests[-1]


async def test_a_conversation_keeps_its_model_and_persona(presets: ChatService,
                                                          openai_fake: FakeOpenAI) -> None:
    await presets.reply(turn("hi"))
    assert sent(openai_fake)["model"] == "gpt-4o-mini"  # SWITCHBOARD_MODEL: the default
    chosen = await presets.choose(DM, model="smart", persona="pirate")
    assert (chosen.model, chosen.persona) == ("smart", "pirate")
    await presets.reply(turn("ahoy?"))
    assert sent(openai_fake)["model"] == "smart-model"
    assert sent(openai_fake)["messages"][0]["content"].startswith("You are a helpful assistant "
                                                                  "who talks like a pirate.")
    await presets.reset(DM, ANA)
    assert (await presets.choice(DM)).model == "smart", "a reset keeps the choice"
    await presets.forget(ANA)
    assert (await presets.choice(DM)).model == "default"


async def test_names_are_checked_and_places_may_be_restricted(presets: ChatService) -> None:
    with pytest.raises(UnknownChoice) as caught:
        await presets.choose(DM, model="gpt-5-ultra")
    assert "default, fast, smart" in caught.value.user_message
    with pytest.raises(UnknownChoice):
        await presets.choose(GUILD, model="smart")  # [platforms."discord:1"] allows fast only
    menu = presets.menu(GUILD)
    assert [o.name for o in menu.models] == ["fast"]
    assert [o.name for o in menu.personas] == ["default", "pirate"]


async def test_a_failing_preset_falls_back_and_the_record_says_so(
        presets: ChatService, openai_fake: FakeOpenAI) -> None:
    records: list[TurnRecord] = []
    presets.observers.append(records.append)
    await presets.choose(DM, model="smart")
    openai_fake.fail_next(503)
    said = "".join([piece async for piece in presets.stream(turn("still there?"))])
    assert said.startswith("echo: still there?")
    assert [r["model"] for r in openai_fake.requests[-2:]] == ["smart-model", "fast-model"]
    assert (records[-1].preset, records[-1].fallback) == ("smart", True)
    metrics = TurnMetrics()
    metrics.observe(records[-1])
    assert b'switchboard_fallbacks_total{preset="smart"} 1.0' in metrics.render()


@pytest.mark.parametrize(("text", "says"), [
    ('[models.a]\nmodel = "m"\nfallbacks = ["b"]\n', "models.a.fallbacks: no other preset"),
    ('[models.a]\nmodel = "m"\napi_key = "sk-live-do-not-print"\n',
     "models.a.api_key: Extra inputs are not permitted"),
    ('[models.a]\nmodel = "m"\napi_key_env = "NOPE_NOT_SET"\n', "NOPE_NOT_SET is not set"),
    ('[mcp.x]\ncommand = "python"\nurl = "http://127.0.0.1:1/mcp"\n', "either `command`"),
    ("[models.a\n", "not valid TOML"),
    ('[platforms.slack]\nmodels = ["zzz"]\n', "platforms.slack.models: unknown 'zzz'"),
])
def test_a_bad_file_is_one_line_naming_the_key(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_file(config(tmp_path, text))
    line = str(caught.value)
    assert line.startswith("SWITCHBOARD_CONFIG: ") and says in line and "\n" not in line
    assert "sk-live" not in line


def test_variables_override_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_MODELS__FAST__MODEL", "faster-model")
    loaded = load_file(config(tmp_path, '[models.fast]\nmodel = "fast-model"\n'))
    assert loaded.models["fast"].model == "faster-model"
    with pytest.raises(ConfigError, match="no file at"):
        load_file(tmp_path / "missing.toml")


async def test_the_api_lists_takes_and_keeps_model_and_persona(
        presets: ChatService, openai_fake: FakeOpenAI) -> None:
    async with served(presets) as api:
        listed = (await api.get("/v1/models")).json()
        assert [m["name"] for m in listed["models"]] == ["default", "fast", "smart"]
        assert listed["personas"][1] == {"name": "pirate", "description": "Talks like a pirate"}
        first = await api.post("/v1/chat", json={"message": "hi", "model": "smart",
                                                 "persona": "pirate"})
        assert first.status_code == 200 and sent(openai_fake)["model"] == "smart-model"
        sid = first.json()["session_id"]
        await api.post("/v1/chat/stream", data={"message": "again", "session_id": sid})
        assert sent(openai_fake)["model"] == "smart-model", "the choice stays"
        assert "pirate" in sent(openai_fake)["messages"][0]["content"]
        unknown = await api.post("/v1/chat", json={"message": "x", "model": "nope"})
        assert unknown.status_code == 422 and "no model called “nope”" in unknown.json()["error"]


def test_the_readme_example_is_a_valid_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("SMART_API_KEY", "sk-from-the-environment")
    loaded = load_file(config(tmp_path, example))
    assert set(loaded.models) == {"fast", "smart"} and set(loaded.mcp) == {"docs", "search"}
    assert loaded.mcp["docs"].write_tools == ["delete_note"]
