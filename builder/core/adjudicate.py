"""Adjudication: several annotations of one task become the gold record of one document.

The policy is an ordered list of rules; the first that applies decides the whole document
(``annotation.adjudication``), and every released region records how it was decided
(``decided_by``). The default, ``ground_truth,majority,most_recent``:

1. ``ground_truth`` — an annotation marked ground truth in Label Studio (a reviewer's settled
   version) is the gold record; if several are marked, the most recently updated one. Every
   region: ``ground_truth``.
2. ``majority`` — region-level vote among the annotators (one vote each: an annotator with
   several annotations votes with the most recently updated one). A region is a span with its
   label: entity ``(start, end, label)``, claim ``(start, end)``. It is kept when more than half
   of the annotators drew it (``majority``). **Tie rule**: when exactly half drew it, it is kept
   if and only if the most recently updated annotation is among them (``tie_most_recent``). The
   values of a kept region are voted among the annotators who drew it, plurality first, ties to
   the most recent of them: the stance; the attribution *together with* the claimer (so a
   REPORTED claim always keeps a claimer and an AUTHOR claim never has one); each target
   separately (kept by more than half, same tie rule); the entity portrayal (no portrayal counts
   as a value). A region whose values needed the tie rule is marked ``tie_most_recent`` too.
   An entity an adjudicated claim links to is kept even if it lost its own vote (``linked``).
3. ``most_recent`` — the most recently updated annotation, whole (``most_recent``).

With a single annotation the rule is ``single``. Annotations marked ground truth are
adjudications, not independent judgements: they are left out of the vote and of agreement.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar

from ..errors import Problem, UsageError
from ..records import Claim, Document, Entity, decided, new_claim, new_entity, picklable

POLICY_ENV = "CLAIMWIRE_ADJUDICATION"
RULES = ("ground_truth", "majority", "most_recent")
DEFAULT_POLICY = RULES

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    """Which rules apply, in order. ``most_recent`` is always the last resort."""

    rules: tuple[str, ...] = DEFAULT_POLICY

    @classmethod
    def parse(cls, text: str, source: str = "--adjudication") -> Policy:
        names = tuple(p.strip() for p in text.split(",") if p.strip())
        unknown = [n for n in names if n not in RULES]
        if unknown or not names or len(set(names)) != len(names):
            raise UsageError(
                Problem(
                    f"bad adjudication policy {text!r} (from {source})",
                    expected="a comma-separated ordered subset of " + ",".join(RULES),
                    found=", ".join(unknown) if unknown else text,
                    fix=f"e.g. {','.join(DEFAULT_POLICY)} (the default) or "
                    "ground_truth,most_recent",
                )
            )
        if "most_recent" not in names:
            names = (*names, "most_recent")
        return cls(names)

    @classmethod
    def from_env(cls) -> Policy:
        """The policy from ``CLAIMWIRE_ADJUDICATION``, or the default."""
        text = os.environ.get(POLICY_ENV, "").strip()
        policy = _from_env.get(text)
        if policy is None:  # parsed once per value (a bad value raises every time)
            policy = cls.parse(text, POLICY_ENV) if text else cls()
            _from_env[text] = policy
        return policy


_from_env: dict[str, Policy] = {}  # CLAIMWIRE_ADJUDICATION value -> its policy


@dataclass(frozen=True)
class Version:
    """One annotator's parsed, checked annotation of a task."""

    index: int  # position in the task's annotations, for JSON pointers
    annotator: str  # pseudonym
    recency: tuple[str, int]  # (updated_at or created_at, annotation id): larger is more recent
    ground_truth: bool
    entities: tuple[Entity, ...]
    claims: tuple[Claim, ...]
    result: tuple[dict[str, Any], ...] = ()  # the raw Label Studio results, for review tasks


def recency(annotation: dict[str, Any]) -> tuple[str, int]:
    """Sort key of an annotation: last update time, then id (ties: the higher id)."""
    stamp = annotation.get("updated_at") or annotation.get("created_at") or ""
    return (str(stamp), int(annotation["id"]))


def voters(versions: Sequence[Version]) -> list[Version]:
    """The independent annotations: not ground truth, one per annotator (the most recent),
    oldest first."""
    latest: dict[str, Version] = {}
    for v in versions:
        if v.ground_truth:
            continue
        if v.annotator not in latest or v.recency > latest[v.annotator].recency:
            latest[v.annotator] = v
    return sorted(latest.values(), key=lambda v: v.recency)


@dataclass(frozen=True)
class Gold:
    entities: tuple[Entity, ...]
    claims: tuple[Claim, ...]
    rule: str
    source: Version | None  # the annotation taken whole, if one was


def _whole(v: Version, rule: str) -> Gold:
    entities, claims = v.entities, v.claims
    # Regions straight from the merge already say "single": nothing is copied then.
    if [e for e in entities if e.decided_by != rule]:
        entities = tuple([decided(e, rule) for e in entities])
    if [c for c in claims if c.decided_by != rule]:
        claims = tuple([decided(c, rule) for c in claims])
    return Gold(entities, claims, rule, v)


def adjudicate(versions: Sequence[Version], policy: Policy | None = None) -> Gold:
    """The gold record of one task from its usable (not skipped) annotations."""
    if len(versions) == 1:
        return _whole(versions[0], "single")
    policy = policy or Policy()
    latest = max(versions, key=lambda v: v.recency)
    for rule in policy.rules:
        if rule == "ground_truth":
            truth = [v for v in versions if v.ground_truth]
            if truth:
                return _whole(max(truth, key=lambda v: v.recency), "ground_truth")
        elif rule == "majority":
            vote = voters(versions)
            if len(vote) == 1:
                return _whole(vote[0], "single")
            if len(vote) >= 2:
                return _majority(vote)
        elif rule == "most_recent":
            return _whole(latest, "most_recent")
    return _whole(latest, "most_recent")  # unreachable: parse() always appends most_recent


def _plurality(values: list[tuple[Version, T]], latest_first: list[Version]) -> tuple[T, bool]:
    """The most frequent value and whether the tie rule was needed (ties: most recent voter)."""
    first = values[0][1]
    for _, v in values:
        if v != first:
            break
    else:
        return first, False  # the usual case: every voter says the same
    counts = Counter(v for _, v in values)
    top = max(counts.values())
    best = [v for v, n in counts.items() if n == top]
    if len(best) == 1:
        return best[0], False
    for voter in latest_first:
        for who, value in values:
            if who is voter and value in best:
                return value, True
    raise AssertionError("a tied value has a voter")


def _kept(holders: list[Version], n: int, latest: Version) -> str | None:
    """Span-vote outcome: majority, tie_most_recent, or None (dropped)."""
    if 2 * len(holders) > n:
        return "majority"
    if 2 * len(holders) == n and any(h is latest for h in holders):
        return "tie_most_recent"
    return None


def _kept_at(positions: dict[int, Any], n: int) -> str | None:
    """:func:`_kept` for the voters at ``positions`` of the ``n`` voters, oldest first (so the
    latest is at ``n - 1``)."""
    if 2 * len(positions) > n:
        return "majority"
    if 2 * len(positions) == n and n - 1 in positions:
        return "tie_most_recent"
    return None


EKey = tuple[int, int, str]
CKey = tuple[int, int]


def _majority(vote: list[Version]) -> Gold:
    n = len(vote)
    latest_first = list(reversed(vote))
    by_entity: dict[EKey, dict[int, Entity]] = {}  # key -> voter position -> their region
    by_claim: dict[CKey, dict[int, Claim]] = {}
    keys: list[dict[str, EKey]] = []  # voter position -> entity id -> key (the first such id)
    for pos, v in enumerate(vote):
        for e in v.entities:
            by_entity.setdefault((e.start, e.end, e.label), {}).setdefault(pos, e)
        for c in v.claims:
            by_claim.setdefault((c.start, c.end), {}).setdefault(pos, c)
        keys.append({e.id: (e.start, e.end, e.label) for e in reversed(v.entities)})
    taken: set[str] = set()

    def fresh(rid: str) -> str:
        out, k = rid, 2
        while out in taken:
            out, k = f"{rid}-{k}", k + 1
        taken.add(out)
        return out

    def entity_of(pos: int, entity_id: str | None) -> EKey | None:
        return None if entity_id is None else keys[pos][entity_id]

    claims_out: list[tuple[CKey, dict[str, Any]]] = []
    for key in sorted(by_claim):
        regions = by_claim[key]
        how = _kept_at(regions, n)
        if how is None:
            continue
        stance, t1 = _plurality([(vote[p], c.stance) for p, c in regions.items()], latest_first)
        (attribution, claimer), t2 = _plurality(
            [(vote[p], (c.attribution, entity_of(p, c.claimer_id))) for p, c in regions.items()],
            latest_first,
        )
        target_votes: dict[EKey, list[Version]] = {}
        for p, c in regions.items():
            for t in {entity_of(p, t) for t in c.target_ids}:
                assert t is not None
                target_votes.setdefault(t, []).append(vote[p])
        targets, t3 = [], False
        latest_holder = vote[max(regions)]  # voters are oldest first
        for t, who in sorted(target_votes.items()):
            outcome = _kept(who, len(regions), latest_holder)
            t3 = t3 or outcome == "tie_most_recent"
            if outcome:
                targets.append(t)
        source = regions[max(regions)]  # the most recent holder's region lends its id and text
        claims_out.append(
            (
                key,
                {
                    "region": source,
                    "stance": stance,
                    "attribution": attribution,
                    "claimer": claimer,
                    "targets": targets,
                    "decided_by": "tie_most_recent"
                    if (how == "tie_most_recent" or t1 or t2 or t3)
                    else "majority",
                },
            )
        )

    linked = {k for _, c in claims_out for k in [c["claimer"], *c["targets"]] if k is not None}
    entities: dict[EKey, Entity] = {}
    for ekey in sorted(by_entity):
        held = by_entity[ekey]
        how = _kept_at(held, n)
        if how is None and ekey not in linked:
            continue
        portrayal, tie = _plurality([(vote[p], e.portrayal) for p, e in held.items()], latest_first)
        lender = held[max(held)]
        how_decided = "linked" if how is None else "tie_most_recent" if tie else how
        entities[ekey] = new_entity(
            fresh(lender.id),
            lender.start,
            lender.end,
            lender.text,
            lender.label,
            portrayal,
            how_decided,
        )
    claims = []
    for _, chosen in claims_out:
        r: Claim = chosen["region"]
        claims.append(
            new_claim(
                fresh(r.id),
                r.start,
                r.end,
                r.text,
                entities[chosen["claimer"]].id if chosen["claimer"] is not None else None,
                tuple(entities[t].id for t in chosen["targets"]),
                chosen["attribution"],
                chosen["stance"],
                chosen["decided_by"],
            )
        )
    return Gold(
        tuple(sorted(entities.values(), key=_ORDER)),
        tuple(sorted(claims, key=_ORDER)),
        "majority",
        None,
    )


_ORDER = attrgetter("start", "end", "id")


# --------------------------------------------------------------------------------------------
# Review tasks: disagreements go back to Label Studio to be settled


def needs_review(doc: Document, threshold: float) -> bool:
    """A document is sent for review when its agreement is below ``threshold``, or when a
    region's values had to be settled by the tie rule."""
    a = doc.annotation
    if a.adjudication != "majority":
        return False  # one annotator, or already settled by a ground-truth annotation
    regions: tuple[Entity | Claim, ...] = (*doc.entities, *doc.claims)
    ties = any(r.decided_by == "tie_most_recent" for r in regions)
    return ties or (a.agreement is not None and a.agreement < threshold)


picklable(Policy, Version, Gold)  # compiled, see builder.records
