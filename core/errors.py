"""The one error tree of Switchboard; every error a user can cause carries a short, friendly text.

    SwitchboardError
    ├── ConfigError            bad or missing setting; stops the program at start
    ├── UserError              caused by what the user sent; shown to them as-is
    │   ├── EmptyMessage
    │   ├── MessageTooLong     .limit
    │   ├── InvalidText        control characters, undecodable bytes
    │   ├── RateLimited        .retry_after (seconds)
    │   ├── BudgetExceeded     .period, .limit, .resets_at; .retry_after (seconds)
    │   ├── AttachmentError    a file the user sent; .http_status for the HTTP adapter
    │   │   ├── FileTooLarge   .limit_bytes (413)
    │   │   ├── TooManyFiles   .limit (413)
    │   │   ├── UnsupportedFile .suffix (415)
    │   │   ├── BrokenFile     truncated, empty, a decompression bomb, unreadable (422)
    │   │   ├── UnreadablePdf  password-protected, or no text layer (422)
    │   │   ├── AudioTooLong   .limit_seconds (422)
    │   │   ├── VisionOff      the model can't see images (422)
    │   │   ├── NoTranscriber  a voice note arrived but no speech model is connected (422)
    │   │   └── DownloadFailed the platform did not hand the file over in time (422)
    │   ├── UnknownChoice      a model or persona this conversation may not choose
    │   ├── NotLastAnswer      regenerate asked of an answer a later turn has followed
    │   ├── UnknownConfirmation a write tool's confirmation never asked, expired or past (404)
    │   ├── NotYourConfirmation another user pressed it (403)
    │   └── LinkError          linking accounts: WrongCode, CodeExpired, OwnCode, NotLinked;
    │                          LinkLocked and TooManyCodes are RateLimited (429, Retry-After)
    ├── DuplicateTurn          the platform redelivered an event already answered; stay silent
    ├── LinkChanged            internal: a turn guessed its sender's link wrong; the core retries
    ├── ConversationBusy       another reply in this conversation held the lock too long
    ├── Overloaded             this process has as many turns as it may hold (503, Retry-After)
    │   ├── ErasePending       the person's data is being erased; no turn meanwhile
    │   └── ErasedMeanwhile    the person was erased while this turn ran; nothing was kept
    ├── StoreUnavailable       Redis could not be reached or answered with an error
    │   └── LockLost           the conversation's lock expired or was lost before the write
    └── ModelError             the language model failed after its retries
        └── ModelTimeout

Adapters hand any failure to `adapters.failures.notice`: a `DuplicateTurn` is silent, another
`SwitchboardError` shows its `user_message`, and anything else is a bug, logged with its
traceback and a request id and shown to the user as `UNEXPECTED` with that id.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Final, Literal

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


class BudgetExceeded(UserError):
    """The sender used their token budget for the UTC day or month; `resets_at` is its end."""

    def __init__(self, period: str, limit: int, resets_at: datetime, retry_after: float) -> None:
        super().__init__(f"{period} token budget of {limit} reached")
        self.period, self.limit, self.resets_at = period, limit, resets_at
        self.retry_after = retry_after
        span, reset = (("today", f"at {resets_at:%H:%M} UTC") if period == "day" else
                       ("this month", f"on {resets_at:%B} {resets_at.day} at 00:00 UTC"))
        self.user_message = (f"You've used your token budget for {span} ({limit:,} tokens). "
                             f"It resets {reset}.")


class DuplicateTurn(SwitchboardError):
    """This turn id was already answered (a platform retry); adapters send nothing."""

    user_message = ""


class ConversationBusy(SwitchboardError):
    user_message = "I'm still answering your previous message here. Please try again shortly."


class Overloaded(SwitchboardError):
    """As many turns answer and wait in this process as it may hold: refused before anything
    was counted or stored, so sending it again later costs nothing."""

    user_message = "I'm answering a lot of people right now. Please send that again in a minute."
    retry_after = 30.0


class ErasePending(ConversationBusy):
    user_message = "I'm erasing everything I kept about you right now. Send that again shortly."


class ErasedMeanwhile(ConversationBusy):
    user_message = ("Everything I kept about you was erased while I was answering, so I kept "
                    "neither your message nor my answer. Send it again to start afresh.")


class StoreUnavailable(SwitchboardError):
    user_message = "My memory store is unreachable right now. Please try again in a minute."


class LockLost(StoreUnavailable):
    user_message = ("My memory store lost track of this conversation while I was answering, so "
                    "I didn't keep that answer. Please send your message again.")


class ModelError(SwitchboardError):
    user_message = "The language model didn't answer. Please try again in a minute."


class ModelTimeout(ModelError):
    user_message = "The language model took too long to answer. Please try again."


class AttachmentError(UserError):
    """A file the user sent can't be used; `http_status` is what the HTTP API answers."""

    http_status = 422
    user_message = "I couldn't read that file."


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


class FileTooLarge(AttachmentError):
    http_status = 413

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"file over {limit_bytes} bytes")
        self.limit_bytes = limit_bytes
        limit = _megabytes(limit_bytes)
        self.user_message = f"That file is too large: please keep files under {limit}."


class TooManyFiles(AttachmentError):
    http_status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} files")
        self.limit = limit
        plural = "file" if limit == 1 else "files"
        self.user_message = f"That's too many files at once: please send at most {limit} {plural}."


class UnsupportedFile(AttachmentError):
    http_status = 415

    def __init__(self, suffix: str = "") -> None:
        # `suffix` is already clipped and sanitized by the caller: letters and digits only.
        super().__init__(f"unsupported file type {suffix or '(unknown)'}")
        self.suffix = suffix
        what = f".{suffix} files" if suffix else "that kind of file"
        self.user_message = (f"I can't read {what}. I can read images, voice notes, PDFs "
                             "and text files.")


Broken = Literal["broken", "empty", "bomb"]
_BROKEN: Final[dict[Broken, str]] = {
    "broken": "That file seems damaged or cut off, so I couldn't read it.",
    "empty": "That file is empty.",
    "bomb": "That image has far too many pixels for me to open.",
}


class BrokenFile(AttachmentError):
    def __init__(self, reason: Broken = "broken") -> None:
        super().__init__(f"broken file: {reason}")
        self.reason = reason
        self.user_message = _BROKEN[reason]


class UnreadablePdf(AttachmentError):
    def __init__(self, *, encrypted: bool) -> None:
        super().__init__("encrypted PDF" if encrypted else "PDF without a text layer")
        self.encrypted = encrypted
        self.user_message = (
            "That PDF is password-protected; send a copy without the password." if encrypted
            else "That PDF has no text I can read (it may be scanned); send it as images instead.")


class AudioTooLong(AttachmentError):
    def __init__(self, limit_seconds: float) -> None:
        super().__init__(f"audio longer than {limit_seconds:g}s")
        self.limit_seconds = limit_seconds
        minutes = limit_seconds / 60
        span = f"{minutes:g} minutes" if limit_seconds >= 120 else f"{limit_seconds:g} seconds"
        self.user_message = f"That voice note is too long: please keep it under {span}."


class VisionOff(AttachmentError):
    user_message = ("This model can't see images. Describe the picture in words, or ask "
                    "whoever runs me to connect a vision model.")


class NoTranscriber(AttachmentError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"voice note of {seconds:.0f}s, no transcriber")
        self.seconds = seconds
        self.user_message = (f"I received a voice note of {max(1, round(seconds))} seconds and "
                             "can't transcribe offline: no speech model is connected.")


class DownloadFailed(AttachmentError):
    user_message = "I couldn't fetch that file from the chat. Please send it again."


class UnknownChoice(UserError):
    """`/model NAME` or `/persona NAME` with a name the configuration does not offer here."""

    http_status = 422

    def __init__(self, kind: str, name: str, offered: list[str]) -> None:
        super().__init__(f"unknown {kind}")
        self.kind, self.offered = kind, offered
        shown = name if len(name) <= 40 and name.isprintable() else name[:40].encode(
            "ascii", "replace").decode()
        self.user_message = f"There is no {kind} called “{shown}” here. Choose one of: " \
                            f"{', '.join(offered)}."


class NotLastAnswer(UserError):
    """Only the conversation's last answer can be regenerated (a new message came since)."""

    http_status = 409
    user_message = "Only the latest answer can be regenerated. Ask again instead."


class UnknownConfirmation(UserError):
    """A confirmation that was never asked, has expired, or is no longer the last answer."""

    http_status = 404
    user_message = "That confirmation has expired. Ask again if you still want it done."


class NotYourConfirmation(UserError):
    """Only the user whose message led to a write tool call may confirm it."""

    http_status = 403
    user_message = "Only the person who asked can confirm this."


class LinkError(UserError):
    """Linking two accounts into one person went wrong; the text says what to do."""

    http_status = 400


class WrongCode(LinkError):
    def __init__(self, tries_left: int | None) -> None:
        super().__init__("wrong linking code")  # never the code itself: codes are secrets
        self.tries_left = tries_left
        more = f" ({tries_left} more tries before linking locks for an hour)" if tries_left \
            else ""
        self.user_message = f"That code doesn't match any link code. Check it and try again{more}."


class CodeExpired(LinkError):
    http_status = 410
    user_message = "That code has expired (codes work for 10 minutes). Make a new one with /link."


class OwnCode(LinkError):
    user_message = "That code was made here: send it from your other account to link the two."


class NotLinked(LinkError):
    http_status = 409
    user_message = "This account isn't linked to any other."


class LinkingOff(LinkError):
    http_status = 501
    user_message = "Linking accounts isn't available with this store."


class TooManyCodes(RateLimited):
    http_status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        wait = max(1, math.ceil(retry_after / 60))
        self.user_message = f"Too many link codes at once. Try again in {wait} min."


class LinkLocked(RateLimited):
    """Five wrong codes: linking is locked for this person until `until`."""

    http_status = 429

    def __init__(self, until: datetime, retry_after: float) -> None:
        super().__init__(retry_after)
        self.until = until
        self.user_message = (f"Too many wrong codes: linking is locked until {until:%H:%M} UTC "
                             f"({until:%Y-%m-%d}).")


class LinkChanged(SwitchboardError):
    """The store found the sender linked to another person than the turn assumed."""

    def __init__(self, person: str) -> None:
        super().__init__("link changed")
        self.person = person  # "" when not linked
