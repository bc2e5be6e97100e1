"""Inter-annotator agreement: span F1, link agreement, Krippendorff's alpha and Cohen's kappa.

Definitions (the card and the QA report print these figures;
``tests/quality/test_agreement.py`` checks each against an independent implementation):

- **Span agreement** between two annotators, per kind (entity, claim) and label. *Exact*: spans
  with the same start, end and label. *Overlap*: a maximum one-to-one matching of overlapping
  spans with the same label. F1 = ``2 * matched / (n_a + n_b)``, micro-averaged over annotator
  pairs (and labels, for "all").
- **Units** for categorical agreement are the regions of the released (adjudicated) document.
  Each annotator's region is matched to at most one released region (overlap matching as above);
  the annotator's value on it is their value for that unit. So "given matched claims" means: both
  annotators drew a claim that matches the same released claim.
- **Stance, attribution, portrayal**: Krippendorff's alpha (nominal) over all units and
  annotators; Cohen's kappa for each annotator pair over the units both labelled. A missing
  portrayal is missing data, not a category.
- **Claimer and target links**: an annotator's linked entity is named by the released entity it
  matches, so two annotators agree when they link the same released entity. Claimer: the share
  of matched claim pairs with the same claimer (or both none). Targets: Dice/F1 of the two target
  sets, micro-averaged.

Everything is computed per document at merge time and stored in the ``documents`` rows
(``annotation.spans`` and ``annotation.labels``), so a release carries its own reliability data
and the figures can be recomputed from it, per article and per (pseudonymous) annotator.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..markdown import markdown_table
from ..records import Claim, Document, Entity, SpanCount, UnitLabel, picklable

NONE = "-"  # value of a claimer/target link to nothing
CATEGORICAL = ("stance", "attribution", "portrayal")
LINKS = ("claimer", "target")


class Span(Protocol):
    """What a span needs to be matched (read-only, so frozen records qualify)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def label(self) -> str: ...


# --------------------------------------------------------------------------------------------
# Matching


_Key = tuple[int, int, str]  # (start, end, label) of a span, read once


def _keys(spans: Iterable[Span]) -> list[_Key]:
    """``(start, end, label)`` of each span."""
    return [(s.start, s.end, s.label) for s in spans]


def _claim_keys(claims: Iterable[Claim]) -> list[_Key]:
    """Claims seen as spans labelled ``CLAIM`` (claims carry no label of their own)."""
    return [(int(c.start), int(c.end), "CLAIM") for c in claims]


def match_spans(a: Sequence[Span], b: Sequence[Span]) -> list[tuple[int, int]]:
    """A maximum one-to-one matching of overlapping same-label spans, as index pairs ``(i, j)``.

    Kuhn's augmenting paths; each span of ``a`` tries partners in order of preference (exact
    match, then larger Jaccard overlap, then position), so exact pairs are kept whenever that
    does not cost a match.
    """
    return _match(_keys(a), _keys(b))


def _match(a: Sequence[_Key], b: Sequence[_Key]) -> list[tuple[int, int]]:
    """:func:`match_spans` of ``(start, end, label)`` keys.

    The spans of ``b`` are grouped by label and sorted by start, with the running maximum of
    their ends: the partners of a span are among those that start before it ends, from the
    first whose running maximum end passes its start (two bisections, so a long span widens
    the search only for the spans it overlaps).
    """
    groups: dict[str, list[tuple[int, int, int, str]]] = {}
    for y in sorted((s, e, j, label) for j, (s, e, label) in enumerate(b)):
        groups.setdefault(y[3], []).append(y)
    index = {
        label: ([y[0] for y in g], list(itertools.accumulate((y[1] for y in g), max)), g)
        for label, g in groups.items()
    }
    # each span's partners as (0 if exact else 1, -Jaccard overlap, j), best first
    prefs: list[list[tuple[int, float, int]]] = []
    for xs, xe, label in a:
        ranked: list[tuple[int, float, int]] = []
        if label in index:
            starts, reach, group = index[label]
            for ys, ye, j, _ in group[bisect_right(reach, xs) : bisect_left(starts, xe)]:
                # min(xe, ye) - max(xs, ys), written out (cheaper than the calls)
                overlap = (ye if ye < xe else xe) - (ys if ys > xs else xs)
                if overlap > 0:
                    # max(xe, ye) - min(xs, ys)
                    union = (ye if ye > xe else xe) - (ys if ys < xs else xs)
                    ranked.append((0 if ys == xs and ye == xe else 1, -overlap / union, j))
            ranked.sort()
        prefs.append(ranked)
    owner: dict[int, int] = {}  # j -> i

    def augment(i: int, seen: set[int]) -> bool:
        for _, _, j in prefs[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for _, _, i in sorted((s, e, i) for i, (s, e, _) in enumerate(a)):
        if prefs[i]:
            j = prefs[i][0][2]
            if j not in owner:  # the first choice is free: what augment() would take
                owner[j] = i
            else:
                augment(i, set())
    return sorted((i, j) for j, i in owner.items())


def exact_matches(a: Sequence[Span], b: Sequence[Span]) -> int:
    """Spans with the same start, end and label (a multiset intersection)."""
    ka = Counter((x.start, x.end, x.label) for x in a)
    kb = Counter((y.start, y.end, y.label) for y in b)
    return sum((ka & kb).values())


def span_counts(
    annotator_a: str,
    a: tuple[Sequence[Entity], Sequence[Claim]],
    annotator_b: str,
    b: tuple[Sequence[Entity], Sequence[Claim]],
) -> list[SpanCount]:
    """Per kind and label counts for one annotator pair (labels neither used are left out).

    One matching per kind serves every label: spans of different labels never match (nor does
    an augmenting path leave a label), so the pairs of a label are those a matching of that
    label alone would make.
    """
    out: list[SpanCount] = []
    for kind, xs, ys in (
        ("entity", _keys(a[0]), _keys(b[0])),
        ("claim", _claim_keys(a[1]), _claim_keys(b[1])),
    ):
        counts: dict[str, list[int]] = {}  # label -> [n_a, n_b, exact, overlap]
        for _, _, label in xs:
            counts.setdefault(label, [0, 0, 0, 0])[0] += 1
        for _, _, label in ys:
            counts.setdefault(label, [0, 0, 0, 0])[1] += 1
        for (_, _, label), k in (Counter(xs) & Counter(ys)).items():
            counts[label][2] += k
        for i, _ in _match(xs, ys):
            counts[xs[i][2]][3] += 1
        out += [
            SpanCount(annotator_a, annotator_b, kind, label, *counts[label])
            for label in sorted(counts)
        ]
    return out


def unit_labels(
    annotator: str,
    version: tuple[Sequence[Entity], Sequence[Claim]],
    gold_entities: Sequence[Entity],
    gold_claims: Sequence[Claim],
) -> list[UnitLabel]:
    """What ``annotator`` said about each released region their annotation matches."""
    entities, claims = version
    out: list[UnitLabel] = []
    to_gold: dict[str, str] = {}
    for i, j in match_spans(entities, gold_entities):
        to_gold[entities[i].id] = gold_entities[j].id
        portrayal = entities[i].portrayal
        if portrayal is not None:
            out.append(UnitLabel(gold_entities[j].id, "portrayal", annotator, portrayal))
    spans = {e.id: e for e in entities}

    def name(entity_id: str) -> str:
        if entity_id in to_gold:
            return to_gold[entity_id]
        e = spans[entity_id]  # linked but matching no released entity: name it by its span
        return f"@{e.start}-{e.end}"

    for i, j in _match(_claim_keys(claims), _claim_keys(gold_claims)):
        c, unit = claims[i], gold_claims[j].id
        out.append(UnitLabel(unit, "stance", annotator, c.stance))
        out.append(UnitLabel(unit, "attribution", annotator, c.attribution))
        out.append(
            UnitLabel(unit, "claimer", annotator, name(c.claimer_id) if c.claimer_id else NONE)
        )
        out.append(
            UnitLabel(
                unit, "target", annotator, "|".join(sorted({name(t) for t in c.target_ids})) or NONE
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Coefficients


def f1(matched: int, total: int) -> float | None:
    """``2 * matched / total`` where ``total`` is n_a + n_b; None when both are empty."""
    return 2 * matched / total if total else None


def krippendorff_alpha(units: Iterable[dict[str, str]]) -> float | None:
    """Krippendorff's alpha for nominal data; each unit maps annotator -> value.

    Units with fewer than two values are not pairable and are dropped. None when alpha is
    undefined (fewer than two pairable values, or every value the same category).
    """
    o: dict[tuple[str, str], float] = defaultdict(float)  # coincidence matrix
    for unit in units:
        _coincide(o, unit)
    return _alpha(o)


def _coincide(o: dict[tuple[str, str], float], unit: dict[str, str]) -> bool:
    """Add one unit's pairs to the coincidence matrix ``o``; False if it is not pairable."""
    values = list(unit.values())
    m = len(values)
    if m < 2:
        return False
    for x, y in itertools.permutations(values, 2):
        o[(x, y)] += 1 / (m - 1)
    return True


def _alpha(o: dict[tuple[str, str], float]) -> float | None:
    n_c: dict[str, float] = defaultdict(float)
    for (x, _), w in o.items():
        n_c[x] += w
    n = sum(n_c.values())
    expected = sum(n_c[x] * n_c[y] for x in n_c for y in n_c if x != y)
    if n < 2 or expected == 0:
        return None
    observed = sum(w for (x, y), w in o.items() if x != y)
    return 1 - (n - 1) * observed / expected


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two annotators' values on the same units; None when undefined (no
    units, or both always gave the same single category)."""
    return _kappa(Counter(pairs))


def _kappa(confusion: Counter[tuple[str, str]]) -> float | None:
    """Cohen's kappa from the counts of each (value of A, value of B) pair."""
    n = sum(confusion.values())
    if not n:
        return None
    observed = sum(k for (x, y), k in confusion.items() if x == y) / n
    ca: Counter[str] = Counter()
    cb: Counter[str] = Counter()
    for (x, y), k in confusion.items():
        ca[x] += k
        cb[y] += k
    chance = sum(ca[c] * cb[c] for c in ca) / (n * n)
    if chance == 1:
        return None
    return (observed - chance) / (1 - chance)


def dice(a: str, b: str) -> tuple[int, int]:
    """(common, |A| + |B|) of two ``|``-joined target sets."""
    sa = set() if a == NONE else set(a.split("|"))
    sb = set() if b == NONE else set(b.split("|"))
    return len(sa & sb), len(sa) + len(sb)


# --------------------------------------------------------------------------------------------
# Aggregation over documents (from records at build time or from release rows)


@dataclass(frozen=True)
class DocAgreement:
    """The agreement data of one document, whether it comes from a record or a release row."""

    id: str
    n_annotators: int
    agreement: float | None
    spans: tuple[SpanCount, ...]
    labels: tuple[UnitLabel, ...]

    @classmethod
    def from_document(cls, doc: Document) -> DocAgreement:
        a = doc.annotation
        return cls(doc.id, a.n_annotators, a.agreement, a.spans, a.labels)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DocAgreement:
        a = row["annotation"]
        return cls(
            row["id"],
            a["n_annotators"],
            a["agreement"],
            tuple(SpanCount(**s) for s in a.get("spans") or ()),
            tuple(UnitLabel(**u) for u in a.get("labels") or ()),
        )


def document_agreement(spans: Iterable[SpanCount]) -> float | None:
    """The single per-document figure (``annotation.agreement``): exact span F1, all kinds."""
    rows = list(spans)
    return f1(sum(s.exact for s in rows), sum(s.n_a + s.n_b for s in rows))


def _span_f1(rows: Sequence[SpanCount]) -> tuple[float | None, float | None, int]:
    total = sum(s.n_a + s.n_b for s in rows)
    return (
        f1(sum(s.exact for s in rows), total),
        f1(sum(s.overlap for s in rows), total),
        len({(s.annotator_a, s.annotator_b) for s in rows}),
    )


@dataclass
class Summary:
    """Every agreement figure of a set of documents, ready to print as Markdown or HTML."""

    documents: int = 0
    multi: int = 0  # documents with at least two (non ground-truth) annotators
    annotators: int = 0
    spans: list[dict[str, Any]] = field(default_factory=list)
    categorical: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    by_article: list[dict[str, Any]] = field(default_factory=list)
    by_annotator: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Annotator:
    documents: int = 0
    entity_spans: int = 0
    entity_exact: int = 0
    claim_spans: int = 0
    claim_overlap: int = 0
    stance_pairs: int = 0
    stance_agree: int = 0
    claimer_pairs: int = 0
    claimer_agree: int = 0


LOWEST = 5  # articles listed in the "lowest agreement" table of the card


class Agreement:
    """The figures of :func:`summarize`, accumulated one document at a time.

    What is kept grows with the annotators, labels and categories, never with the documents:
    span counts summed per kind and label; Krippendorff's coincidence matrix per attribute (fed
    unit by unit in document order, so the sums are the same floating-point sums as over a
    list); for Cohen's kappa, the count of each value pair per annotator pair; per-annotator
    sums; and the per-article rows of the ``lowest`` articles with the lowest agreement (every
    article when ``lowest`` is None).

    A unit is a region of one document: units of different documents are never merged, even
    when two documents have the same id.
    """

    def __init__(self, lowest: int | None = None) -> None:
        self.lowest = lowest
        self.documents = 0
        self.multi = 0
        self._annotators: set[str] = set()
        self._spans: dict[tuple[str, str], list[int]] = {}  # (kind, label) -> total/exact/overlap
        self._coincidence: dict[str, dict[tuple[str, str], float]] = {
            a: defaultdict(float) for a in CATEGORICAL
        }
        self._pairable: Counter[str] = Counter()
        self._confusion: dict[tuple[str, str, str], Counter[tuple[str, str]]] = {}
        self._claimer = [0, 0]  # annotator pairs x claims, pairs with the same claimer
        self._target = [0, 0, 0]  # annotator pairs x claims, common targets, |A| + |B|
        self._who: dict[str, _Annotator] = defaultdict(_Annotator)
        self._articles: list[tuple[tuple[float, str, int], dict[str, Any]]] = []

    def skip(self, n: int = 1) -> None:
        """Count ``n`` documents that carry no agreement data (a single annotator)."""
        self.documents += n

    def add(self, d: DocAgreement) -> None:
        self.documents += 1
        if not (d.spans or d.labels):
            return
        self.multi += 1
        for sc in d.spans:
            self._annotators.update((sc.annotator_a, sc.annotator_b))
            sums = self._spans.setdefault((sc.kind, sc.label), [0, 0, 0])
            sums[0] += sc.n_a + sc.n_b
            sums[1] += sc.exact
            sums[2] += sc.overlap
            for who in {sc.annotator_a, sc.annotator_b}:
                w = self._who[who]
                if sc.kind == "entity":
                    w.entity_spans += sc.n_a + sc.n_b
                    w.entity_exact += sc.exact
                elif sc.kind == "claim":
                    w.claim_spans += sc.n_a + sc.n_b
                    w.claim_overlap += sc.overlap
        for who in {x for sc in d.spans for x in (sc.annotator_a, sc.annotator_b)}:
            self._who[who].documents += 1
        units: dict[str, dict[str, dict[str, str]]] = {a: {} for a in (*CATEGORICAL, *LINKS)}
        for u in d.labels:
            if u.attribute in units:
                units[u.attribute].setdefault(u.unit, {})[u.annotator] = u.value
        for attribute in CATEGORICAL:
            o = self._coincidence[attribute]
            for unit in units[attribute].values():
                self._pairable[attribute] += _coincide(o, unit)
                for a, b in itertools.combinations(sorted(unit), 2):
                    key = (attribute, a, b)
                    self._confusion.setdefault(key, Counter())[(unit[a], unit[b])] += 1
        for unit in units["stance"].values():
            for who, mine in unit.items():
                w = self._who[who]
                for other, value in unit.items():
                    if other != who:
                        w.stance_pairs += 1
                        w.stance_agree += value == mine
        for unit in units["claimer"].values():
            for a, b in itertools.combinations(sorted(unit), 2):
                same = unit[a] == unit[b]
                self._claimer[0] += 1
                self._claimer[1] += same
                for who in (a, b):
                    self._who[who].claimer_pairs += 1
                    self._who[who].claimer_agree += same
        for unit in units["target"].values():
            for a, b in itertools.combinations(sorted(unit), 2):
                common, total = dice(unit[a], unit[b])
                self._target[0] += 1
                self._target[1] += common
                self._target[2] += total
        ents = [sc for sc in d.spans if sc.kind == "entity"]
        claims = [sc for sc in d.spans if sc.kind == "claim"]
        row = {
            "id": d.id,
            "annotators": d.n_annotators,
            "agreement": d.agreement,
            "entity_exact_f1": _span_f1(ents)[0],
            "claim_overlap_f1": _span_f1(claims)[1],
            "stance_alpha": krippendorff_alpha(units["stance"].values()),
        }
        rank = (d.agreement if d.agreement is not None else 2, d.id, self.multi)
        self._articles.append((rank, row))
        if self.lowest is not None and len(self._articles) > 2 * self.lowest + 64:
            self._articles.sort(key=lambda r: r[0])
            del self._articles[self.lowest :]

    def summary(self) -> Summary:
        s = Summary(documents=self.documents, multi=self.multi)
        annotators = sorted(self._annotators)
        s.annotators = len(annotators)
        for kind in ("entity", "claim"):
            labels = sorted(label for k, label in self._spans if k == kind)
            for label in labels:
                total, exact, overlap = self._spans[(kind, label)]
                s.spans.append(
                    {
                        "kind": kind,
                        "label": label,
                        "exact_f1": f1(exact, total),
                        "overlap_f1": f1(overlap, total),
                        "spans": total,
                    }
                )
            if labels:
                total, exact, overlap = (
                    sum(self._spans[(kind, x)][k] for x in labels) for k in range(3)
                )
                s.spans.append(
                    {
                        "kind": kind,
                        "label": "all",
                        "exact_f1": f1(exact, total),
                        "overlap_f1": f1(overlap, total),
                        "spans": total,
                    }
                )
        for attribute in CATEGORICAL:
            kappas = []
            for a, b in itertools.combinations(annotators, 2):
                confusion = self._confusion.get((attribute, a, b))
                if not confusion:
                    continue
                n = sum(confusion.values())
                k = _kappa(confusion)
                agree = sum(c for (x, y), c in confusion.items() if x == y) / n
                s.pairs.append(
                    {
                        "attribute": attribute,
                        "annotator_a": a,
                        "annotator_b": b,
                        "units": n,
                        "agreement": agree,
                        "kappa": k,
                    }
                )
                if k is not None:
                    kappas.append(k)
            s.categorical.append(
                {
                    "attribute": attribute,
                    "units": self._pairable[attribute],
                    "alpha": _alpha(self._coincidence[attribute]),
                    "mean_kappa": sum(kappas) / len(kappas) if kappas else None,
                }
            )
        # (own names: ``n`` and ``agree`` above are a float sum and a float; compiled code
        # would turn these counts into floats too)
        pairs, same = self._claimer
        s.links.append(
            {"link": "claimer", "pairs": pairs, "agreement": same / pairs if pairs else None}
        )
        pairs, common, total = self._target
        s.links.append({"link": "target", "pairs": pairs, "agreement": f1(common, total)})
        articles = sorted(self._articles, key=lambda r: r[0])
        s.by_article = [row for _, row in articles[: self.lowest]]
        for who in annotators:
            w = self._who[who]
            s.by_annotator.append(
                {
                    "annotator": who,
                    "documents": w.documents,
                    "entity_exact_f1": f1(w.entity_exact, w.entity_spans),
                    "claim_overlap_f1": f1(w.claim_overlap, w.claim_spans),
                    "stance_agreement": w.stance_agree / w.stance_pairs if w.stance_pairs else None,
                    "claimer_agreement": (
                        w.claimer_agree / w.claimer_pairs if w.claimer_pairs else None
                    ),
                }
            )
        return s


def summarize(docs: Iterable[DocAgreement], lowest: int | None = None) -> Summary:
    """Aggregate figures: micro-averaged span F1, pooled alpha, kappa per pair, weak spots
    (every article's row, or the ``lowest`` ones)."""
    acc = Agreement(lowest)
    for d in docs:
        acc.add(d)
    return acc.summary()


# --------------------------------------------------------------------------------------------
# Rendering


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def tables(s: Summary, lowest: int = 5) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every agreement table, shared by the card, CLI and report."""
    out = [
        (
            "Span agreement (pairwise, micro-averaged over annotator pairs)",
            ["kind", "label", "exact-match F1", "overlap F1", "spans compared"],
            [
                [r["kind"], r["label"], fmt(r["exact_f1"]), fmt(r["overlap_f1"]), str(r["spans"])]
                for r in s.spans
            ],
        ),
        (
            "Labels on matched regions",
            ["attribute", "units", "Krippendorff's alpha (nominal)", "mean pairwise Cohen's kappa"],
            [
                [r["attribute"], str(r["units"]), fmt(r["alpha"]), fmt(r["mean_kappa"])]
                for r in s.categorical
            ],
        ),
        (
            "Links on matched claims",
            ["link", "annotator pairs x claims", "agreement"],
            [
                [
                    r["link"],
                    str(r["pairs"]),
                    fmt(r["agreement"])
                    + (" (same entity)" if r["link"] == "claimer" else " (Dice)"),
                ]
                for r in s.links
            ],
        ),
        (
            "Cohen's kappa per annotator pair",
            ["attribute", "annotator A", "annotator B", "units", "raw agreement", "kappa"],
            [
                [
                    r["attribute"],
                    r["annotator_a"],
                    r["annotator_b"],
                    str(r["units"]),
                    fmt(r["agreement"]),
                    fmt(r["kappa"]),
                ]
                for r in s.pairs
            ],
        ),
        (
            "Per annotator (against every other annotator)",
            [
                "annotator",
                "documents",
                "entity exact F1",
                "claim overlap F1",
                "stance agreement",
                "claimer agreement",
            ],
            [
                [
                    r["annotator"],
                    str(r["documents"]),
                    fmt(r["entity_exact_f1"]),
                    fmt(r["claim_overlap_f1"]),
                    fmt(r["stance_agreement"]),
                    fmt(r["claimer_agreement"]),
                ]
                for r in s.by_annotator
            ],
        ),
        (
            f"Articles with the lowest agreement (up to {lowest})",
            [
                "article",
                "annotators",
                "agreement",
                "entity exact F1",
                "claim overlap F1",
                "stance alpha",
            ],
            [
                [
                    r["id"],
                    str(r["annotators"]),
                    fmt(r["agreement"]),
                    fmt(r["entity_exact_f1"]),
                    fmt(r["claim_overlap_f1"]),
                    fmt(r["stance_alpha"]),
                ]
                for r in s.by_article[:lowest]
            ],
        ),
    ]
    return out


def markdown(s: Summary) -> str:
    if not s.multi:
        return (
            f"None of the {s.documents} article(s) has two or more independent annotations "
            "yet, so no agreement can be measured for this version."
        )
    parts = [
        f"Agreement over {s.multi} of {s.documents} article(s) with two or more independent "
        f"annotations, by {s.annotators} pseudonymous annotator(s). Definitions: "
        "`builder/quality/agreement.py`."
    ]
    for title, header, rows in tables(s):
        if rows:
            parts.append(f"**{title}**\n\n" + markdown_table(header, rows))
    return "\n\n".join(parts)


def agreement_markdown(summary: Summary, decided: Mapping[str, int]) -> str:
    """The card's agreement section: the adjudication policy with ``decided`` (released regions
    by ``decided_by``) and the tables of ``summary``."""
    policy = (
        "Gold records are adjudicated by `builder/core/adjudicate.py`: an annotation marked ground "
        "truth; otherwise a region-level majority vote among the annotators (ties: the most "
        "recently updated annotation decides); otherwise the most recent annotation. Released "
        "regions by how they were decided (`decided_by`): "
        + (", ".join(f"{k} {v}" for k, v in sorted(decided.items())) or "none")
        + "."
    )
    return policy + "\n\n" + markdown(summary)


picklable(DocAgreement)  # compiled, see builder.records
