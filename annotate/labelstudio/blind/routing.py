"""Which articles go to which annotators: each article to N of them, the load kept even. Pure, so tested alone.

Label Studio's own queue cannot do this across servers, so the toolkit decides once per article, when it is
preloaded, and records it (``BlindRecord.routes``). A routed annotator counts towards N while their desk is active,
and after removal only for the articles they submitted (``done``): the rest are routed again to someone else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field


class RoutingPlan(BaseModel):
    added: dict[str, list[str]] = Field(default_factory=dict)  # article id -> annotators newly given it
    short: dict[str, int] = Field(default_factory=dict)  # article id -> annotators it has, when fewer than N


def plan_routes(
    articles: Sequence[str],
    routes: Mapping[str, Sequence[str]],
    active: Sequence[str],
    wanted: int,
    done: Mapping[str, set[str]] | None = None,
) -> RoutingPlan:
    """Give every article in ``articles`` up to ``wanted`` annotators from ``active`` (in join order).

    ``routes`` is what was routed before; ``done[article]`` are the annotators who submitted it (removed ones
    included). The least loaded annotator goes first, ties in join order, so the load stays within one article.
    """
    done = done or {}
    active_set = set(active)
    order = {email: n for n, email in enumerate(active)}
    load = Counter(e for routed in routes.values() for e in routed if e in active_set)
    plan = RoutingPlan()
    for article in articles:
        routed = list(routes.get(article, []))
        counting = [e for e in routed if e in active_set or e in done.get(article, set())]
        free = [e for e in active if e not in routed]
        added: list[str] = []
        while len(counting) + len(added) < wanted and free:
            pick = min(free, key=lambda e: (load[e], order[e]))
            free.remove(pick)
            added.append(pick)
            load[pick] += 1
        if added:
            plan.added[article] = added
        if len(counting) + len(added) < wanted:
            plan.short[article] = len(counting) + len(added)
    return plan
