"""The end of a turn: stored whole, with older messages folded into the summary, or, when it
was stopped or failed, the part the user saw."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core import context
from core.errors import ModelError, SwitchboardError
from core.identities import Where
from core.locks import Lease
from core.messages import StoredMessage
from core.spending import Spending
from core.store import HistoryStore, Loaded, TurnWrite
from core.turn import Turn, Work

log = logging.getLogger("switchboard.turn")


@dataclass(frozen=True, slots=True)
class Answering:
    """A turn being answered, as its end needs it."""

    turn: Turn  # its session is the conversation it is stored in
    loaded: Loaded
    user_msg: StoredMessage
    work: Work
    where: Where


class Ending(Spending):
    """Mixed into the service: a turn's commit, the part kept of a stopped one, the fold."""

    store: HistoryStore
    deadline: float  # one model call's bound, beyond the client's own timeout and retries

    @contextlib.asynccontextmanager
    async def _ending(self, answering: Answering, lease: Lease,
                      keep_partial: bool) -> AsyncIterator[None]:
        """Store the turn when the body completes; with `keep_partial`, what was answered
        before it stopped or failed."""
        try:
            yield
        except BaseException:
            lease.ending = True
            if keep_partial and "".join(answering.work.parts).strip():
                await self._keep_partial(answering)
            raise
        lease.ending = True
        await self._commit(answering)

    async def _keep_partial(self, answering: Answering) -> None:
        # Shielded and without a summary call: the consumer is leaving or the model failed.
        with contextlib.suppress(SwitchboardError, asyncio.CancelledError):
            await asyncio.shield(self._commit(answering, fold=False))

    async def _commit(self, answering: Answering, fold: bool = True) -> None:
        turn, loaded, work = answering.turn, answering.loaded, answering.work
        answer = "".join(work.parts)
        if not answer.strip():
            raise ModelError("empty answer")
        reply = StoredMessage("ai", answer, answering.user_msg.at, tools=tuple(work.tools))
        if work.redo is not None:
            if not await self.store.replace_answer(turn.session, loaded.lock_token, turn.turn_id,
                                                   work.redo, reply, answering.where.payer,
                                                   work.spent.pair, cost=self.spend(work).cost):
                log.warning("regenerated answer not stored session=%s", turn.session)
            return
        summary = await self._fold(work, loaded.summary) if fold else None
        write = TurnWrite(turn.turn_id, (answering.user_msg, reply), summary,
                          work.prompt.folded_upto, work.files,
                          work.spent.pair,  # the summary's tokens too
                          answering.where.payer, cost=self.spend(work).cost,
                          extra=(round(work.seconds), len(work.tools)))
        await self.store.commit_turn(turn.session, turn.speaker.user, loaded.lock_token, write)

    async def _fold(self, work: Work, summary: str) -> str | None:
        """Merge messages that left the prompt into the rolling summary; None keeps the old one."""
        if not work.prompt.to_fold:
            return None
        try:
            async with asyncio.timeout(work.bound(self.deadline)):
                result = await work.model.ainvoke(
                    context.fold_request(summary, work.prompt.to_fold))
            work.spent.add(result, summary=True)
        except Exception as exc:  # a failed summary must not lose the turn; retried next turn
            log.warning("summary skipped: %s", type(exc).__name__)
            return None
        return result.text.strip() or None
