"""Rules of the layout: the core stays platform-agnostic and free of deprecated memory APIs."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {"slack_bolt", "slack_sdk", "discord", "telegram", "fastapi", "starlette",
                     "uvicorn", "aiohttp"}
DEPRECATED = {"RunnableWithMessageHistory", "BaseChatMessageHistory", "ConversationBufferMemory",
              "ConversationSummaryBufferMemory", "InMemoryChatMessageHistory"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_platform_or_web_library() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(imported_modules(p) & FORBIDDEN_IN_CORE)
                 for p in (ROOT / "core").rglob("*.py")}
    assert {p: m for p, m in offenders.items() if m} == {}


def test_no_deprecated_langchain_memory() -> None:
    for folder in ("core", "adapters", "bots"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            assert not [name for name in DEPRECATED if name in text], path


def test_every_module_says_what_it_owns() -> None:
    for folder in ("core", "adapters", "bots"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name != "__init__.py" or path.stat().st_size:
                assert ast.get_docstring(ast.parse(path.read_text())), path
