"""The one error tree of Switchboard; every error a user can cause carries a short, friendly text.

    SwitchboardError
    ├── ConfigError            bad or missing setting; stops the program at start
    ├── UserError              caused by what the user sent; shown to them as-is
    │   ├── EmptyMessage
    │   ├── MessageTooLong     .limit
    │   ├── InvalidText        control characters, undecodable bytes
    │   └── RateLimited        .retry_after (seconds)
    ├── DuplicateTurn          the platform redelivered an event already answered; stay silent
    ├── ConversationBusy       another reply in this conversation held the lock too long
    ├── StoreUnavailable       Redis could not be reached or answered with an error
    └── ModelError             the language model failed after its retries
        └── ModelTimeout

Adapters hand any failure to `adapters.failures.notice`: a `DuplicateTurn` is silent, another
`SwitchboardError` shows its `user_message`, and anything else is a bug, logged with its
traceback and a request id and shown to the user as `UNEXPECTED` with that id.
"""

from __future__ import annotations

import math

UNEXPECTED = "Something went wrong on my side. Please try again in a moment."


class SwitchboardError(Exception):
    """Base of every error Switchboard raises on purpose."""

    user_message = UNEXPECTED


class ConfigError(SwitchboardError):
    """A setting is missing or malformed; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class UserError(SwitchboardError):
    """Something about the user's message; the text says what to do instead."""


class EmptyMessage(UserError):
    user_message = "Your message was empty. Type something and I'll answer."


class MessageTooLong(UserError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"message longer than {limit} characters")
        self.limit = limit
        self.user_message = f"That message is too long: please keep it under {limit} characters."


class InvalidText(UserError):
    user_message = "I can only read plain text; that message had characters I can't accept."


class RateLimited(UserError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f}s")
        self.retry_after = retry_after
        wait = max(1, math.ceil(retry_after))
        unit = "second" if wait == 1 else "seconds"
        self.user_message = f"You're sending messages a bit fast. Try again in {wait} {unit}."


class DuplicateTurn(SwitchboardError):
    """This turn id was already answered (a platform retry); adapters send nothing."""

    user_message = ""


class ConversationBusy(SwitchboardError):
    user_message = "I'm still answering your previous message here. Please try again shortly."


class StoreUnavailable(SwitchboardError):
    user_message = "My memory store is unreachable right now. Please try again in a minute."


class ModelError(SwitchboardError):
    user_message = "The language model didn't answer. Please try again in a minute."


class ModelTimeout(ModelError):
    user_message = "The language model took too long to answer. Please try again."
