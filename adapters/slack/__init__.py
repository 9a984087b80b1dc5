"""The Slack adapter: slack-bolt listeners translating Slack events to core turns and back."""

from adapters.slack.app import build_app
from adapters.slack.settings import SlackSettings
from adapters.slack.transport import events_router

__all__ = ["SlackSettings", "build_app", "events_router"]
