"""Bearer tokens: every way a token can be wrong is a short 401; settings refuse weak setups."""

from __future__ import annotations

import time
import warnings

import jwt
import pytest

from adapters.http import HttpSettings, create_app
from adapters.http.auth import parse_ttl
from bots.cli import main
from core.errors import ConfigError
from core.service import ChatService
from core.settings import load
from tests.fakes.http_api import SECRET, served, settings, token

ONE_HOUR_AGO = int(time.time()) - 3600


def _hs512() -> str:
    with warnings.catch_warnings():  # the short key is the point: the algorithm is refused
        warnings.simplefilter("ignore")
        return token(algorithm="HS512")


def _unsigned(**claims: object) -> str:
    return jwt.encode({"sub": "ana", "iss": "switchboard", "aud": "switchboard-api",
                       "exp": int(time.time()) + 600, **claims}, "", algorithm="none")


BAD = {
    "no token": {},
    "not bearer": {"Authorization": "Basic YW5hOnB3"},
    "garbage": {"Authorization": "Bearer not.a.jwt"},
    "expired": {"Authorization": f"Bearer {token(exp=ONE_HOUR_AGO)}"},
    "alg none": {"Authorization": f"Bearer {_unsigned()}"},
    "wrong secret": {"Authorization": f"Bearer {token(key='another-secret-' + 'x' * 30)}"},
    "wrong audience": {"Authorization": f"Bearer {token(aud='someone-else')}"},
    "wrong issuer": {"Authorization": f"Bearer {token(iss='evil')}"},
    "no exp": {"Authorization": f"Bearer {token(exp=None)}"},
    "no sub": {"Authorization": f"Bearer {token(user=None)}"},  # type: ignore[arg-type]
    "HS512": {"Authorization": f"Bearer {_hs512()}"},
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_credentials_are_401(service: ChatService, case: str) -> None:
    async with served(service, headers=BAD[case]) as api:
        for response in (await api.get("/v1/sessions"),
                         await api.post("/v1/chat", json={"message": "hi"}),
                         await api.post("/v1/chat/stream", json={"message": "hi"})):
            assert response.status_code == 401, (case, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert list(response.json()) == ["error"] and len(response.json()["error"]) < 60


def _rsa_pair() -> tuple[object, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, public.decode()


async def test_rs256_tokens_from_an_identity_provider(service: ChatService, tmp_path: object
                                                      ) -> None:
    private, public = _rsa_pair()
    path = tmp_path / "idp.pem"  # type: ignore[operator]
    path.write_text(public)
    http = settings(SWITCHBOARD_JWT_PUBLIC_KEY=str(path), SWITCHBOARD_JWT_ISSUER="https://idp",
                    SWITCHBOARD_JWT_AUDIENCE="chat")
    good = token("carol", key=private, algorithm="RS256", iss="https://idp", aud="chat")
    async with served(service, http, headers={"Authorization": f"Bearer {good}"}) as api:
        assert (await api.get("/v1/sessions")).status_code == 200
        # The public key used as an HMAC secret must not be accepted (algorithm confusion).
        forged = jwt.encode({"sub": "carol", "iss": "https://idp", "aud": "chat",
                             "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256")
        other = await api.get("/v1/sessions", headers={"Authorization": f"Bearer {forged}"})
        assert other.status_code == 401


@pytest.mark.parametrize(("values", "variable"), [
    ({"SWITCHBOARD_JWT_SECRET": "short"}, "SWITCHBOARD_JWT_SECRET"),
    ({"SWITCHBOARD_JWT_SECRET": "changeme"}, "SWITCHBOARD_JWT_SECRET"),
    ({"SWITCHBOARD_JWT_PUBLIC_KEY": "/no/such/key.pem"}, "SWITCHBOARD_JWT_PUBLIC_KEY"),
    ({"SWITCHBOARD_HTTP_PORT": "99999"}, "SWITCHBOARD_HTTP_PORT"),
])
def test_settings_refuse_weak_or_broken_values(monkeypatch: pytest.MonkeyPatch,
                                               values: dict[str, str], variable: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load(HttpSettings)
    assert caught.value.variable == variable


def test_public_host_without_a_key_is_refused(service: ChatService) -> None:
    with pytest.raises(ConfigError, match="SWITCHBOARD_JWT_SECRET"):
        create_app(service, HttpSettings(SWITCHBOARD_HTTP_HOST="0.0.0.0"))
    with pytest.raises(ConfigError, match="SWITCHBOARD_JWT_PUBLIC_KEY"):
        create_app(service, HttpSettings(SWITCHBOARD_JWT_PUBLIC_KEY="-----BEGIN junk"))


async def test_dev_mode_only_on_loopback_without_secret(service: ChatService) -> None:
    dev = HttpSettings()
    assert dev.dev_mode and not settings().dev_mode
    assert not HttpSettings(SWITCHBOARD_HTTP_HOST="0.0.0.0", SWITCHBOARD_JWT_SECRET=SECRET).dev_mode
    async with served(service, dev, headers={}) as api:
        sid = (await api.post("/v1/chat", json={"message": "hi"})).json()["session_id"]
        assert (await api.get(f"/v1/sessions/{sid}/messages")).status_code == 200
        # DNS rebinding (foreign Host) and other sites' pages (foreign Origin) get no dev user.
        rebound = await api.get("/v1/sessions", headers={"Host": "evil.example:8000"})
        cross = await api.get("/v1/sessions", headers={"Origin": "https://evil.example"})
        tokened = await api.get("/v1/sessions", headers={"Authorization": f"Bearer {token()}"})
        assert (rebound.status_code, cross.status_code, tokened.status_code) == (401, 401, 401)
    async with served(service, settings(), headers={}) as api:
        assert (await api.get("/v1/sessions")).status_code == 401


def test_token_command_prints_a_verifiable_token(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SWITCHBOARD_JWT_SECRET", SECRET)
    assert main(["token", "--user", "ana", "--ttl", "2h"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"],
                        audience="switchboard-api", issuer="switchboard")
    assert claims["sub"] == "ana" and 7190 < claims["exp"] - time.time() <= 7200
    assert main(["token", "--user", "ana", "--ttl", "soon"]) == 2
    monkeypatch.delenv("SWITCHBOARD_JWT_SECRET")
    assert main(["token", "--user", "ana"]) == 2
    assert "SWITCHBOARD_JWT_SECRET" in capsys.readouterr().err
    assert parse_ttl("30m") == 1800 and parse_ttl("7d") == 604800 and parse_ttl("45") == 45


async def test_secrets_and_bodies_never_reach_the_logs(service: ChatService,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    caplog.set_level("DEBUG", logger="switchboard.turn")  # `switchboard chat` quiets it
    bearer = token()
    async with served(service, headers={"Authorization": f"Bearer {bearer}"}) as api:
        await api.post("/v1/chat", json={"message": "my password is hunter2"})
        await api.get("/v1/sessions", headers={"Authorization": "Bearer bad.token.here"})
    assert "http POST /v1/chat 200" in caplog.text
    turns = [r.getMessage() for r in caplog.records if r.name == "switchboard.turn"]
    assert len(turns) == 1 and "platform=api" in turns[0] and "outcome=ok" in turns[0]
    assert "latency_ms=" in turns[0] and "session=" in turns[0]
    assert bearer not in caplog.text and "hunter2" not in caplog.text
    assert "bad.token" not in caplog.text
