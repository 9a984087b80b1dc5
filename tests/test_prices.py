"""Prices, role budgets, totals per platform for admins, and the token and cost counters."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis

from adapters import admin, commands
from core.config import load_file
from core.errors import BudgetExceeded, ConfigError
from core.keys import SessionKey, Speaker, UserKey
from core.metrics import TurnMetrics
from core.presets import Catalog
from core.redis_store import RedisStore
from core.roles import Roles, most_generous
from core.service import ChatService, Turn
from core.settings import CoreSettings
from core.usage import Budget, amount
from tests.fakes.http_api import auth, served
from tests.fakes.openai_server import FakeOpenAI, approx_prompt_tokens

ANA = Speaker(UserKey.of("api", "ana"), "ana", "the HTTP API")  # a guest by the file
BEN = Speaker(UserKey.of("slack", "T1", "ben"), "ben", "slack")  # an admin by the file
# A guest by a platform's fact: an administrator of a Telegram group the file names.
CAT = Speaker(UserKey.of("telegram", 7), "cat", "telegram", frozenset({"telegram:admin:-100"}))
DAN = Speaker(UserKey.of("discord", 9), "dan", "discord")  # no role
CHEAP, DEAR = (0.15, 0.60), (2.5, 10.0)  # per million tokens in and out
FILE = f"""
[models.default]
model = "cheap-model"
prices = {{ input = {CHEAP[0]}, output = {CHEAP[1]}, currency = "USD" }}
[models.smart]
model = "smart-model"
prices = {{ input = {DEAR[0]}, output = {DEAR[1]} }}
[roles.admin]
budget = "unlimited"
members = ["slack:T1:ben", "api:boss"]
[roles.guest]
budget = "20/day"
members = ["api:ana", "telegram:admin:-100"]
"""
Make = Callable[..., Awaitable[ChatService]]


@pytest.fixture
def make_core(tmp_path: Path, make_settings: Callable[..., CoreSettings], redis: Redis,
              openai_fake: FakeOpenAI, model_http: AsyncClient) -> Make:
    """A bot process from a configuration file's text, on its own Redis client if given."""
    async def make(text: str = FILE, client: Redis | None = None, **overrides: Any
                   ) -> ChatService:
        path = tmp_path / "switchboard.toml"
        path.write_text(text)
        settings = make_settings(OPENAI_API_KEY="sk-test-fake-key-123",
                                 OPENAI_BASE_URL=openai_fake.base_url,
                                 SWITCHBOARD_MODEL_MAX_RETRIES="0",
                                 SWITCHBOARD_CONFIG=str(path), **overrides)
        store = RedisStore(client or redis, settings.redis_prefix, settings.history_ttl, 200)
        await store.scripts.load(client or redis)
        catalog = Catalog(settings, load_file(settings.config_file), model_http)
        return ChatService(store, catalog, settings)
    return make


def priced(usages: list[dict[str, int]], prices: tuple[float, float]) -> float:
    return sum(u["prompt_tokens"] * prices[0] + u["completion_tokens"] * prices[1]
               for u in usages) / 1_000_000


@pytest.mark.parametrize(("budgets", "most"), [
    ([Budget(20, None), Budget(None, None)], None),  # unlimited wins
    ([Budget(20, 100), Budget(50, 80)], Budget(50, 100)),  # the most generous per period
    ([Budget(20, None), Budget(50, 80)], Budget(50, None)),  # no month limit in one: none
])
def test_the_most_generous_role_budget(budgets: list[Budget], most: Budget | None) -> None:
    assert most_generous(budgets) == most


def test_roles_resolve_from_members_and_the_platform(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(FILE)
    roles = Roles(load_file(path).roles)
    default = Budget(30)
    assert roles.of(BEN.user) == {"admin"} and roles.of(CAT.user, CAT.roles) == {"guest"}
    assert roles.budget(roles.of(BEN.user, frozenset({"guest"})), default) is None
    assert roles.budget(roles.of(ANA.user), default) == Budget(20)
    assert roles.budget(roles.of(DAN.user), default) == default
    assert roles.budget({"unknown-role"}, default) == default


@pytest.mark.parametrize(("text", "says"), [
    ('[roles.guest]\nbudget = "5/week"\n', "roles.guest: Value error, expected a token budget"),
    ('[models.a]\nmodel = "m"\nprices = { input = -1, output = 1 }\n', "models.a.prices.input"),
    ('[models.a]\nmodel = "m"\nprices = { input = 1, output = 1, currency = "EUR" }\n'
     '[models.b]\nmodel = "n"\nprices = { input = 1, output = 1 }\n', "one currency"),
])
def test_bad_prices_and_roles_are_one_line(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    assert says.split(": Value error, ")[-1] in str(caught.value)


async def test_costs_are_the_fake_models_usage_at_each_presets_prices(
        make_core: Make, openai_fake: FakeOpenAI) -> None:
    service = await make_core()
    await service.reply(Turn(SessionKey.direct(DAN.user), DAN, "hello there"))
    cheap = list(openai_fake.usages)
    smart = SessionKey.channel_member("discord", 1, 2, user=DAN.user)
    await service.choose(smart, model="smart")
    assert "".join([p async for p in service.stream(Turn(smart, DAN, "think hard"))])
    dear = openai_fake.usages[len(cheap):]
    assert [b["model"] for b in openai_fake.requests] == ["cheap-model", "smart-model"]
    used = await service.usage(DAN.user)
    expected = priced(cheap, CHEAP) + priced(dear, DEAR)
    assert used.currency == "USD" and used.cost == pytest.approx(expected, abs=1e-9)
    assert used.day.cost == used.month.cost == used.cost
    text = await commands.usage(service, DAN.user)
    assert f"tokens, {amount(used.month.cost or 0, 'USD')} (resets on" in text
    assert amount(0.0000346, "USD") == "0.000035 USD" and amount(1234.5, "€") == "1,234.50 €"


async def test_the_api_shows_cost_and_the_budget_left(make_core: Make,
                                                     openai_fake: FakeOpenAI) -> None:
    service = await make_core()
    async with served(service) as api:  # as ana, a guest: 20 tokens a day
        assert (await api.post("/v1/chat", json={"message": "hi"})).status_code == 200
        body = (await api.get("/v1/me/usage")).json()
    assert body["currency"] == "USD" and body["day"]["limit"] == 20
    assert body["cost"] == pytest.approx(priced(openai_fake.usages, CHEAP), abs=1e-9)
    assert body["month"]["limit"] is None  # the guest role sets no month limit


async def test_role_budgets_hold_across_two_processes(
        make_core: Make, openai_fake: FakeOpenAI, redis_url: str) -> None:
    other = Redis.from_url(redis_url, decode_responses=True)  # the second process's connection
    try:
        first = await make_core(SWITCHBOARD_TOKEN_BUDGET="30/day")
        second = await make_core(client=other, SWITCHBOARD_TOKEN_BUDGET="30/day")
        for i, service in enumerate((first, second)):  # >= 11 tokens a turn
            await service.reply(Turn(SessionKey.api(ANA.user, "s"), ANA, f"guest {i}"))
            await service.reply(Turn(SessionKey.direct(CAT.user), CAT, f"guest {i}"))
        calls = len(openai_fake.requests)
        for service in (first, second):
            for who, session in ((ANA, SessionKey.api(ANA.user, "t")),
                                 (CAT, SessionKey.direct(CAT.user))):
                with pytest.raises(BudgetExceeded) as refused:
                    await service.reply(Turn(session, who, "more"))
                assert refused.value.limit == 20
        assert len(openai_fake.requests) == calls  # no model call for a refused turn
        for i in range(6):  # the admin goes far past the default 30
            await (first, second)[i % 2].reply(Turn(SessionKey.direct(BEN.user), BEN, f"{i}"))
        assert (await second.usage(BEN.user)).day.tokens > 60
        assert (await first.usage(BEN.user)).day.limit is None
        assert (await second.usage(CAT.user, CAT.roles)).day.limit == 20
        assert (await first.usage(DAN.user)).day.limit == 30
    finally:
        await other.aclose()


async def test_admins_see_totals_per_platform(make_core: Make, openai_fake: FakeOpenAI,
                                              redis: Redis, prefix: str) -> None:
    service = await make_core()
    await service.reply(Turn(SessionKey.api(ANA.user, "s"), ANA, "from the api"))
    api_usage = list(openai_fake.usages)
    for text in ("from slack", "again"):
        await service.reply(Turn(SessionKey.direct(BEN.user), BEN, text))
    slack_usage = openai_fake.usages[len(api_usage):]
    totals = await service.totals()
    rows = {p.platform: p for p in totals.day.platforms}
    assert set(rows) == {"api", "slack"} and totals.day.platforms == totals.month.platforms
    assert rows["slack"].tokens == sum(u["total_tokens"] for u in slack_usage)
    assert rows["api"].tokens_in == sum(u["prompt_tokens"] for u in api_usage)
    assert rows["slack"].cost == pytest.approx(priced(slack_usage, CHEAP), abs=1e-9)
    assert totals.month.tokens == totals.day.tokens == sum(
        u["total_tokens"] for u in openai_fake.usages)
    text = await admin.totals(service, BEN.user)
    assert text.startswith(f"Today, everyone: {totals.day.tokens:,} tokens, ")
    assert f"  slack: {rows['slack'].tokens:,} tokens (" in text and "This month" in text
    assert await admin.totals(service, ANA.user) == admin.NOT_ADMIN
    # A platform's fact makes an admin only where the file names it: anyone can own a group.
    assert await admin.totals(service, CAT.user, frozenset({"admin"})) == admin.NOT_ADMIN
    assert await admin.totals(service, DAN.user, frozenset({"slack:admin:T1"})) == admin.NOT_ADMIN
    async with served(service) as api:
        assert (await api.get("/v1/admin/usage")).status_code == 403  # ana is no admin
        boss = (await api.get("/v1/admin/usage", headers=auth("boss"))).json()
    assert boss["currency"] == "USD" and boss["day"]["tokens"] == totals.day.tokens
    assert [p["platform"] for p in boss["month"]["platforms"]] == ["slack", "api"]
    await service.forget(BEN.user)  # the totals stay, and name no one
    assert (await service.totals()).day == totals.day
    left = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    assert left and not [k for k in left if "ben" in k]
    counted = await redis.zrange(f"{prefix}{{g:use}}:uc", 0, -1)
    assert len(counted) == 3 and not [m for m in counted if "ben" in m or "T1" in m]


async def test_metrics_count_tokens_by_kind_and_cost(make_core: Make,
                                                    openai_fake: FakeOpenAI) -> None:
    openai_fake.prompt_tokens = approx_prompt_tokens
    service = await make_core(SWITCHBOARD_CONTEXT_TOKENS="300")
    metrics = TurnMetrics()
    service.observers.append(metrics.observe)
    for i in range(5):  # long enough for older turns to fold into a summary
        await service.reply(Turn(SessionKey.direct(BEN.user), BEN, f"m{i} " + "x" * 150))
    text = metrics.render().decode()

    def value(name: str, **labels: str) -> float:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        found = re.search(rf"^{name}{{{re.escape(inner)}}} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    kinds = {k: value("switchboard_model_tokens_total", kind=k, model="default",
                      platform="slack") for k in ("input", "output", "summary")}
    assert kinds["summary"] > 0
    assert sum(kinds.values()) == sum(u["total_tokens"] for u in openai_fake.usages)
    cost = value("switchboard_model_cost_total", currency="USD", model="default",
                 platform="slack")
    assert cost == pytest.approx(priced(openai_fake.usages, CHEAP), abs=1e-9)
