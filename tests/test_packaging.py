"""What can be checked of the container set-up without a Docker engine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_has_redis_with_aof_and_healthchecks() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    redis, bot = compose["services"]["redis"], compose["services"]["bot"]
    assert redis["image"].startswith("redis:8")
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    assert redis["healthcheck"]["test"] and bot["healthcheck"]["test"]
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    required = [k for k, v in bot["environment"].items() if ":?" in str(v)]
    assert set(required) == {"OPENAI_API_KEY", "SWITCHBOARD_JWT_SECRET"}


def test_dockerfile_runs_the_packaged_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    entry = re.search(r'ENTRYPOINT \["(\w+)"\]', dockerfile)
    assert entry and entry.group(1) in project["scripts"]
    for folder in ("core", "adapters", "bots"):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert "USER switchboard" in dockerfile


def test_every_file_the_code_reads_is_package_data() -> None:
    # `pip install .` (the Dockerfile's) ships Python files and these globs only: a Lua script
    # or a page asset they miss works from a checkout and fails in the image.
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = setuptools["package-data"]["*"]
    read = [path for folder in ("core", "adapters", "bots") for path in (ROOT / folder).rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc", ".md")]
    assert any(path.suffix == ".lua" for path in read)
    missed = [str(p.relative_to(ROOT)) for p in read if not any(p.match(g) for g in globs)]
    assert missed == []
    # Folders without an __init__.py (adapters/web) ship as namespace packages, pyproject's
    # default for `packages.find`.
    assert setuptools["packages"]["find"].get("namespaces", True)


def test_env_example_and_readme_list_every_setting() -> None:
    from adapters.discord_bot.settings import DiscordSettings
    from adapters.http import HttpSettings
    from adapters.inbox import InboxSettings
    from adapters.slack import SlackSettings
    from adapters.telegram.settings import TelegramSettings
    from core.settings import CoreSettings

    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for settings in (CoreSettings, HttpSettings, SlackSettings, TelegramSettings,
                     DiscordSettings, InboxSettings):
        for field in settings.model_fields.values():
            assert field.alias and field.alias in example, field.alias
            assert f"`{field.alias}`" in readme or field.alias in readme, field.alias
