"""`/switchboard …` as pure decisions: what a command asks for, and the menu a choice shows.

A slash command knows its channel but never its thread, and in Slack every channel thread is
its own conversation: so models and personas are chosen for the direct-message conversation
only, and a command in a channel says so instead of guessing a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adapters.commands import Kind
from core.presets import Option

Action = Literal["reset", "forget", "help", "show", "choose", "reset outside a DM",
                 "choose outside a DM"]
KINDS: tuple[Kind, ...] = ("model", "persona")
ACTION_IDS = {kind: f"switchboard_choose_{kind}" for kind in KINDS}
MAX_OPTIONS = 100  # a static_select lists at most 100 options
MAX_LABEL = 75  # nor labels longer than 75 characters
CHOOSE_IN_DM = ("A command here cannot tell which thread you mean, and each thread here is its "
                "own conversation. Choose the model and persona of our direct-message "
                "conversation there: `/switchboard model` or `/switchboard persona` in a "
                "direct message to me.")


@dataclass(frozen=True, slots=True)
class Asked:
    """What one `/switchboard` command asks for; `kind` and `name` for model and persona."""

    action: Action
    kind: Kind | None = None
    name: str = ""


def parse(text: str, channel: str) -> Asked:
    """Read `/switchboard <text>` typed in `channel`; only DM conversations can be changed."""
    word, _, rest = text.strip().partition(" ")
    word, rest, dm = word.lower(), rest.strip(), channel.startswith("D")
    if word in KINDS:
        kind: Kind = "model" if word == "model" else "persona"
        if not dm:
            return Asked("choose outside a DM", kind, rest)
        return Asked("choose", kind, rest) if rest else Asked("show", kind)
    if rest or word not in ("reset", "forget"):
        return Asked("help")
    if word == "forget":
        return Asked("forget")
    return Asked("reset") if dm else Asked("reset outside a DM")


def picked(action_id: str, value: str, channel: str) -> Asked | None:
    """What choosing `value` in a `/switchboard` menu asks for; None for another menu."""
    kind = next((k for k, a in ACTION_IDS.items() if a == action_id), None)
    if kind is None or not value:
        return None
    return Asked("choose" if channel.startswith("D") else "choose outside a DM", kind, value)


def menu_blocks(text: str, kind: Kind, options: Sequence[Option],
                chosen: str) -> list[dict[str, Any]]:
    """The shared answer, then a menu choosing among `options` with `chosen` selected."""
    items = [{"text": {"type": "plain_text", "text": _label(o)}, "value": o.name}
             for o in options[:MAX_OPTIONS]]
    select: dict[str, Any] = {"type": "static_select", "action_id": ACTION_IDS[kind],
                              "placeholder": {"type": "plain_text", "text": f"Choose a {kind}"},
                              "options": items}
    selected = [i for i in items if i["value"] == chosen]
    if selected:
        select["initial_option"] = selected[0]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    # Slack refuses a whole message holding an empty menu: then the text alone.
    return [section, {"type": "actions", "elements": [select]}] if items else [section]


def _label(option: Option) -> str:
    label = f"{option.name}: {option.description}" if option.description else option.name
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"
