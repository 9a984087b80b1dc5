"""Schemathesis against the app's own OpenAPI schema: generated requests never cause a 5xx."""

from __future__ import annotations

import asyncio

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from adapters.http import create_app
from core.service import ChatService
from tests.fakes.common import serve_asgi
from tests.fakes.http_api import auth
from tests.fakes.http_api import settings as http_settings

EXAMPLES = 60  # per generation mode; enough to reach every operation, quick enough for CI


def _fuzz(schema: schemathesis.BaseSchema, base_url: str, mode: GenerationMode) -> list[str]:
    """Run generated cases against the live server; return the ones answered with a 5xx."""
    failures: list[str] = []
    session = requests.Session()

    @given(case=schema.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
        response = case.call(base_url=base_url, session=session, headers=auth("fuzz"),
                             timeout=10)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
        elif response.status_code >= 400:
            assert list(response.json()) == ["error"], response.text

    run()
    session.close()
    return failures


async def test_generated_requests_cause_no_server_error(service: ChatService) -> None:
    app = create_app(service, http_settings())
    schema = schemathesis.openapi.from_dict(app.openapi())
    async with serve_asgi(app) as url:
        # The requests are blocking: run them in a thread while the server runs on this loop.
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            assert await asyncio.to_thread(_fuzz, schema, url, mode) == []
