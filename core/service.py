"""`ChatService`: the one entry point adapters call to answer, stream, reset and erase."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from dataclasses import replace

from core import context, inputs, locks
from core.admission import Admission
from core.agent import ToolLimits, ToolStatus, ToolTurn
from core.config import DEFAULT
from core.confirm import TTL, Answer, find, said
from core.conversations import Conversations
from core.ending import Answering, Ending
from core.errors import LinkChanged
from core.identities import Where
from core.keys import SessionKey, Speaker
from core.links import links_of
from core.messages import StoredMessage
from core.model import ChatModel, classify
from core.presets import Catalog
from core.settings import CoreSettings
from core.store import HistoryStore, Loaded
from core.tools import Toolbox
from core.transcribe import OfflineTranscriber, Transcriber
from core.turn import Turn, TurnRecord, Work, again, cost, human, pieces
from core.usage import Budget

__all__ = ["PROMPT_IMAGES", "ChatService", "Turn", "TurnRecord"]  # adapters import these here
log = logging.getLogger("switchboard.turn")
PROMPT_IMAGES = 4  # images of earlier messages a turn shows the model again, newest first


class ChatService(Conversations, Ending):
    """Answers turns in order per conversation, storing each one only when its reply succeeded."""

    def __init__(self, store: HistoryStore, model: ChatModel | Catalog, settings: CoreSettings,
                 observers: Iterable[Callable[[TurnRecord], None]] = (),
                 transcriber: Transcriber | None = None, toolbox: Toolbox | None = None) -> None:
        """`model` is the one model to use, or a `Catalog` of presets to choose from."""
        self.store, self.settings = store, settings
        self.links = links_of(store)
        self.tools, self.tool_limits = (toolbox.tools if toolbox else ()), ToolLimits.of(settings)
        self.catalog = model if isinstance(model, Catalog) else Catalog.of(model, settings)
        self.observers = list(observers)
        self.transcriber = transcriber or OfflineTranscriber()
        self._admission = Admission(store, settings.max_turns, settings.max_waiting)
        # An end-to-end bound on one model call, beyond the client's own timeout and retries.
        self.deadline = settings.model_timeout * (settings.model_max_retries + 1) + 5
        self.confirm_ttl = TTL  # seconds a write tool call waits for its confirmation

    async def reply(self, turn: Turn) -> str:
        """Answer one message and store the turn."""
        async with self._turn(turn) as work:
            if not self.tools:
                async with asyncio.timeout(work.bound(self.deadline)):
                    return work.heard + work.add(await work.model.ainvoke(work.prompt.messages))
            return "".join([p async for p in self._answer(work) if isinstance(p, str)])
        raise AssertionError("unreachable")  # pragma: no cover - the context re-raises

    async def stream(self, turn: Turn, *, keep_partial: bool = False
                     ) -> AsyncGenerator[str, None]:
        """Yield the answer as it is generated; the turn is stored when the stream completes.

        With `keep_partial`, a stream the consumer stops (the user pressed stop) or that fails
        midway stores the text yielded so far, since the user saw it; otherwise nothing.
        """
        async with contextlib.aclosing(self.events(turn, keep_partial=keep_partial)) as events:
            async for piece in events:
                if isinstance(piece, str):
                    yield piece

    async def events(self, turn: Turn, *, keep_partial: bool = False
                     ) -> AsyncGenerator[str | ToolStatus, None]:
        """`stream`, with the tools' progress between the pieces, for adapters that show it."""
        async with self._turn(turn, keep_partial) as work:
            async for piece in self._answer(work):
                yield piece

    async def regenerate(self, session: SessionKey, speaker: Speaker, target: str | None,
                         press: str, *, keep_partial: bool = False
                         ) -> AsyncGenerator[str | ToolStatus, None]:
        """Answer turn `target`'s question again (None: the last turn's), in place of its answer.

        `press` names the request: the same press twice is answered once. NotLastAnswer if
        another turn came since; like a new message, it counts against the rate limit.
        """
        turn = Turn(session, speaker, "", f"re:{target or 'last'}:{press}")
        async with self._turn(turn, keep_partial, redo=target or "") as work:
            async for piece in self._answer(work):  # with its tools' progress, like `events`
                yield piece

    async def confirm(self, session: SessionKey, speaker: Speaker, confirmation: str,
                      approve: bool, press: str) -> AsyncGenerator[str | ToolStatus, None]:
        """Run (or refuse) the write call an `agent.Confirmation` asked about, and stream the
        answer on as a new turn, rate limited like a message. Once per confirmation (turn id
        `cf:<id>`; any second `press` is a DuplicateTurn); UnknownConfirmation when expired or
        past, NotYourConfirmation for anyone but the asker."""
        del press  # the confirmation id is the dedupe key, whoever pressed and however often
        answer = Answer(confirmation, approve)
        turn = Turn(session, speaker, "", f"cf:{confirmation}")
        # The answer is closed before the turn ends: a tool that ran leaves its note in it.
        async with (self._turn(turn, keep_partial=True, answer=answer) as work,
                    contextlib.aclosing(self._answer(work, answer)) as answering):
            async for piece in answering:
                yield piece

    def _answer(self, work: Work, answer: Answer | None = None
                ) -> AsyncGenerator[str | ToolStatus, None]:
        """The model's answer: straight, or through the tool loop when tools are configured."""
        if not self.tools and answer is None:
            return pieces(work, work.bound(self.deadline))
        limits = self.tool_limits
        loop = ToolTurn(self.tools, limits, record=work.tools, resume=answer)
        return loop.pieces(work, work.bound(self.deadline) + limits.steps * limits.timeout)

    @property
    def model(self) -> ChatModel:
        """The default preset's model."""
        return self.catalog.model(DEFAULT)

    @model.setter
    def model(self, model: ChatModel) -> None:
        self.catalog.serve(DEFAULT, model)

    @property
    def in_flight(self) -> int:
        """Turns this process is answering or holding in line."""
        return self._admission.in_flight

    async def drain(self, seconds: float) -> bool:
        """Wait for turns in flight to finish (at shutdown); False if some are still running."""
        return await self._admission.drain(seconds)

    @contextlib.asynccontextmanager
    async def _turn(self, turn: Turn, keep_partial: bool = False, redo: str | None = None,
                    answer: Answer | None = None) -> AsyncIterator[Work]:
        """Open, lock and prepare one turn; store it when the body completes.

        With `redo` (a turn id, or "" for the last) the turn answers that turn's question
        again and replaces its answer."""
        started, outcome, work = time.perf_counter(), "ok", None
        try:
            with self._admission.running():
                # Plain text is checked before anything is counted; files once the turn is open.
                plain = not turn.uploads and redo is None and answer is None
                given = await self._given(turn, vision=False) if plain else None
                where = self._where(turn.session, turn.speaker.user)
                budget, rate = self.budget_of(turn.speaker), self.settings.rate_limit
                async with self._admission.admit(turn, where, rate, budget) as admitted:
                    loaded, where = await self._open(turn, where, admitted, budget)
                    kept = replace(turn, session=where.session)  # a linked person's DM may be one
                    async with locks.kept(self.store, kept.session, loaded.lock_token) as lease:
                        answering = await self._prepare(kept, where, loaded, given, redo, answer)
                        work = answering.work
                        async with self._ending(answering, lease, keep_partial):
                            yield work
        except BaseException as exc:
            outcome, mapped = classify(exc)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            self._record(turn, outcome, time.perf_counter() - started, work)

    async def _open(self, turn: Turn, where: Where, admitted: bool,
                    budget: Budget | None) -> tuple[Loaded, Where]:
        """Open with the cached guess of the sender's person; a wrong guess costs one more trip
        (right after a link changed, or a linked sender's first turn in this process)."""
        for _ in range(3):
            try:
                return await self.store.open_turn(
                    where.session, where.payer, turn.turn_id, self.settings.rate_limit,
                    context.WINDOW, admitted, PROMPT_IMAGES, cost(turn), budget,
                    link=where.check), where
            except LinkChanged as changed:
                if self.links is not None:
                    self.links.learn(turn.speaker.user, changed.person)
                where = self._where(turn.session, turn.speaker.user, changed.person)
                admitted = False  # counted against the wrong keys: count on the right ones
        raise LinkChanged("")  # links changing under every try: the turn fails, nothing stored

    async def _given(self, turn: Turn, vision: bool) -> inputs.Input:
        limits = replace(self.settings.limits, vision=vision)
        return await inputs.prepare(turn.text, turn.uploads, limits, self.transcriber,
                                    self.settings.max_input_chars)

    async def _prepare(self, turn: Turn, where: Where, loaded: Loaded,
                       given: inputs.Input | None, redo: str | None,
                       answer: Answer | None = None) -> Answering:
        """The user's message and the work of answering it (the stored one, to regenerate;
        the user's answer, to confirm a write tool call)."""
        if answer is not None:
            answer.pending = find(loaded.messages, answer.id, turn.speaker.user,
                                          time.time(), self.confirm_ttl)
            user_msg = said(answer.pending, answer.approve, turn.speaker, time.time())
            work = self._work(turn, loaded, user_msg, inputs.Input(user_msg.text))
            return Answering(turn, loaded, user_msg, work, where)
        if redo is not None:
            loaded, user_msg, target = again(loaded, redo or None)
            work = self._work(turn, loaded, user_msg, inputs.Input(user_msg.text))
            work.redo = target
            return Answering(turn, loaded, user_msg, work, where)
        given = given or await self._given(turn, self.catalog.vision(loaded.choice.model))
        user_msg = human(turn, given)
        return Answering(turn, loaded, user_msg, self._work(turn, loaded, user_msg, given), where)

    def _work(self, turn: Turn, loaded: Loaded, user_msg: StoredMessage,
              given: inputs.Input) -> Work:
        """The chosen persona's prompt and preset's budget; earlier images if it can see."""
        choice = loaded.choice
        if not self.catalog.vision(choice.model):
            loaded = replace(loaded, files={})
        prompt = context.build(self.catalog.prompt(choice.persona), turn.speaker, loaded,
                               user_msg, self.catalog.budget(choice.model), given.files)
        return Work(prompt, self.catalog.model(choice.model), self.catalog.preset(choice.model),
                    choice.model, inputs.heard_quote(given.heard), tuple(given.files.items()),
                    given.seconds)

    def _record(self, turn: Turn, outcome: str, seconds: float, work: Work | None) -> None:
        record = TurnRecord(turn.session.platform, str(turn.session), outcome, seconds,
                            work.tokens if work else 0, work.preset_name if work else "",
                            work.answered_by if work else "", bool(work and work.fallback),
                            spend=self.spend(work) if work else None)
        fields = {"platform": record.platform, "session": record.session, "outcome": outcome,
                  "latency_ms": int(seconds * 1000), "tokens": record.tokens}
        log.info("turn platform=%(platform)s session=%(session)s outcome=%(outcome)s "
                 "latency_ms=%(latency_ms)d tokens=%(tokens)d", fields, extra=fields)
        for observe in self.observers:
            observe(record)
