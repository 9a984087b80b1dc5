"""Prometheus metrics of turns, fed by a `TurnRecord` observer, in a registry of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from core.service import ChatService, TurnRecord
from core.usage import NANO, Spend

# Outcomes that are not failures of the bot: the user's doing, a redelivery, a hang-up.
_NOT_FAILED = frozenset({"ok", "cancelled", "DuplicateTurn", "RateLimited", "EmptyMessage",
                         "MessageTooLong", "InvalidText"})
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)


class TurnMetrics:
    """Counters and a latency histogram by platform; append `observe` to `service.observers`."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        # A private registry: several apps (or tests) in one process never clash.
        self.registry = CollectorRegistry(auto_describe=True)
        self.turns = Counter("switchboard_turns", "Turns handled, by outcome.",
                             ["platform", "outcome"], registry=self.registry)
        self.latency = Histogram("switchboard_reply_seconds", "Time to answer a turn (ok only).",
                                 ["platform"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.tokens = Counter("switchboard_tokens", "Model tokens used, as reported by the model.",
                              ["platform"], registry=self.registry)
        self.limited = Counter("switchboard_rate_limited_turns", "Turns refused by the rate "
                               "limit.", ["platform"], registry=self.registry)
        self.failed = Counter("switchboard_failed_turns", "Turns that failed on our side "
                              "(model, store, bug).", ["platform"], registry=self.registry)
        self.answers = Counter("switchboard_answers", "Answers, by preset and the model that "
                               "gave them.", ["preset", "model"], registry=self.registry)
        self.spent = Counter("switchboard_model_tokens", "Model tokens by platform, preset and "
                             "kind: input and output of answers, summary (both ways) of the "
                             "rolling summary.", ["platform", "model", "kind"],
                             registry=self.registry)
        self.cost = Counter("switchboard_model_cost", "What the model tokens cost, by the "
                            "presets' prices.", ["platform", "model", "currency"],
                            registry=self.registry)
        self.in_flight: Gauge | None = None  # set by `watch`
        self.fallbacks = Counter("switchboard_fallbacks", "Answers a fallback gave because the "
                                 "chosen preset failed.", ["preset"], registry=self.registry)

    def watch(self, service: ChatService) -> None:
        """Observe `service`'s turns, and show how many are in flight (answering or in line:
        past SWITCHBOARD_MAX_TURNS + SWITCHBOARD_MAX_WAITING a message is refused)."""
        if self.observe not in service.observers:
            service.observers.append(self.observe)
        if self.in_flight is None:
            self.in_flight = Gauge("switchboard_turns_in_flight", "Turns answering or waiting "
                                   "for a place in this process.", registry=self.registry)
            self.in_flight.set_function(lambda: service.in_flight)

    def observe(self, record: TurnRecord) -> None:
        """The `ChatService` observer: cheap, synchronous, never raises on unknown outcomes."""
        self.turns.labels(record.platform, record.outcome).inc()
        self.tokens.labels(record.platform).inc(record.tokens)
        if record.spend is not None:
            self._spent(record.platform, record.spend)
        if record.outcome == "ok":
            self.latency.labels(record.platform).observe(record.seconds)
            self.answers.labels(record.preset, record.answered_by or "unknown").inc()
            if record.fallback:
                self.fallbacks.labels(record.preset).inc()
        elif record.outcome == "RateLimited":
            self.limited.labels(record.platform).inc()
        elif record.outcome not in _NOT_FAILED:
            self.failed.labels(record.platform).inc()

    def _spent(self, platform: str, spend: Spend) -> None:
        tokens = spend.tokens
        kinds = (("input", tokens.tokens_in - tokens.summary_in),
                 ("output", tokens.tokens_out - tokens.summary_out),
                 ("summary", tokens.summary_in + tokens.summary_out))
        for kind, count in kinds:
            if count:
                self.spent.labels(platform, spend.preset, kind).inc(count)
        if spend.cost and spend.currency:
            self.cost.labels(platform, spend.preset, spend.currency).inc(spend.cost / NANO)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric above."""
        return generate_latest(self.registry)
