"""Roles: which budget a person has, from the configuration's members and the platform's facts.

`[roles.NAME]` tables name members by platform user id (`telegram:123`, `slack:T1:U1`,
`api:alice`) or by what a platform says of a person where they write (`Speaker.roles`:
`slack:admin:T1`, `discord:role:ROLE_ID`, `telegram:admin:CHAT_ID`), and a budget
(`unlimited`, `20000/day`...). Only the configuration turns such a fact into a role: anyone
can own a Discord server or a Telegram group. Someone in several roles gets the most generous
budget for each period; someone in none gets `SWITCHBOARD_TOKEN_BUDGET`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.config import Role
from core.keys import UserKey
from core.usage import Budget

ADMIN = "admin"  # the role that sees everyone's totals per platform


class Roles:
    """The configuration's roles, indexed by member; built once per process."""

    def __init__(self, table: Mapping[str, Role]) -> None:
        self.budgets = {name: role.limits() for name, role in table.items()}
        self.members: dict[str, frozenset[str]] = {}
        for name, role in table.items():
            for member in role.members:
                self.members[member] = self.members.get(member, frozenset()) | {name}

    def of(self, user: UserKey, facts: frozenset[str] = frozenset()) -> frozenset[str]:
        """Every role the configuration gives `user`, by their id or a platform's fact."""
        return frozenset().union(*(self.members.get(key, frozenset())
                                   for key in (str(user), *facts)))

    def asks(self, prefix: str) -> bool:
        """Whether some role names a fact starting with `prefix` (`telegram:admin:`): a platform
        looks up what costs it a request only then."""
        return any(member.startswith(prefix) for member in self.members)

    def budget(self, roles: Iterable[str], default: Budget | None) -> Budget | None:
        """The budget for someone in `roles`: their roles' most generous, else `default`."""
        chosen = [b for b in (self.budgets.get(r) for r in roles) if b is not None]
        return most_generous(chosen) if chosen else default


def most_generous(budgets: list[Budget]) -> Budget | None:
    """Per period, the highest limit, or none if any of them has none; None: no limit at all."""
    day = None if any(b.day is None for b in budgets) else max(b.day or 0 for b in budgets)
    month = None if any(b.month is None for b in budgets) else max(b.month or 0 for b in budgets)
    return Budget(day, month) if day or month else None
