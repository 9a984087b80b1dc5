"""`/switchboard …` as pure decisions: which shared command it runs, and the menu a choice shows.

A slash command knows its channel but never its thread, and in Slack every channel thread is
its own conversation: so resets, models and personas apply to the direct-message conversation
only, and a command in a channel says so instead of guessing a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.commands import BY_NAME, KINDS, Menu
from core.presets import Option

ACTION_IDS = {kind: f"switchboard_choose_{kind}" for kind in KINDS}
MAX_OPTIONS = 100  # a static_select lists at most 100 options
MAX_LABEL = 75  # nor labels longer than 75 characters
CHOOSE_IN_DM = ("A command here cannot tell which thread you mean, and each thread here is its "
                "own conversation. Choose the model and persona of our direct-message "
                "conversation there: `/switchboard model` or `/switchboard persona` in a "
                "direct message to me.")
IN_CHANNEL = ("Each thread here is its own conversation: mention me in a new message to start "
              "over. `/switchboard reset` in a direct message resets that conversation.")


@dataclass(frozen=True, slots=True)
class Asked:
    """The shared command `/switchboard <text>` runs, or Slack's own `answer` instead."""

    name: str
    args: str = ""
    answer: str = ""


def parse(text: str, channel: str) -> Asked:
    """Read `/switchboard <text>` typed in `channel`; only DM conversations can be changed."""
    word, _, rest = text.strip().partition(" ")
    word, rest, dm = word.lower(), rest.strip(), channel.startswith("D")
    command = BY_NAME.get(word)
    if command is not None and command.argument:
        return Asked(word, rest, "" if dm or word not in KINDS else CHOOSE_IN_DM)
    if rest or command is None:
        return Asked("help")
    return Asked(word, "", IN_CHANNEL if word == "reset" and not dm else "")


def picked(action_id: str, value: str, channel: str) -> Asked | None:
    """What choosing `value` in a `/switchboard` menu asks for; None for another menu."""
    kind = next((k for k, a in ACTION_IDS.items() if a == action_id), None)
    if kind is None or not value:
        return None
    return parse(f"{kind} {value}", channel)


def menu_blocks(text: str, menu: Menu) -> list[dict[str, Any]]:
    """The shared answer, then a menu choosing among its options with the current one selected."""
    items = [{"text": {"type": "plain_text", "text": _label(o)}, "value": o.name}
             for o in menu.options[:MAX_OPTIONS]]
    select: dict[str, Any] = {"type": "static_select", "action_id": ACTION_IDS[menu.kind],
                              "placeholder": {"type": "plain_text",
                                              "text": f"Choose a {menu.kind}"},
                              "options": items}
    selected = [i for i in items if i["value"] == menu.chosen]
    if selected:
        select["initial_option"] = selected[0]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    # Slack refuses a whole message holding an empty menu: then the text alone.
    return [section, {"type": "actions", "elements": [select]}] if items else [section]


def _label(option: Option) -> str:
    label = f"{option.name}: {option.description}" if option.description else option.name
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"
