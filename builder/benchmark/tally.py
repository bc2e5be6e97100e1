"""The per-row loops of the scorer and of the rules baselines, compiled with mypyc (``setup.py``):
the spans read from IOB2 tags and their counts per label, the claim counts per document, the
capitalised-span tagger and the reporting-cue claimer rule. Integers and strings only: every
ratio (and so every float sum, whose rounding a compiled loop need not share with the
interpreter's ``sum``) is computed by :mod:`builder.benchmark.scorer` from these counts."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

Row = Mapping[str, Any]
# (true positives, predicted, gold)
Counts = tuple[int, int, int]


# ---------------------------------------------------------------------------------------------
# entities


def iob2_spans(tags: Iterable[str]) -> list[tuple[str, int, int]]:
    """``(type, first, end)`` token spans (end exclusive) read as ``conlleval`` reads IOB2 tags."""
    if isinstance(tags, list) and tags.count("O") == len(tags):
        return []  # most sentences: no entity
    out: list[tuple[str, int, int]] = []
    start = -1  # the first token of the open span, -1 when none is open
    kind = ""
    n = -1
    for n, tag in enumerate(tags):
        if tag == "O":  # closes the open span, opens none
            if start >= 0:
                out.append((kind, start, n))
                start = -1
            continue
        prefix, _, label = tag.partition("-")
        if start >= 0 and (prefix != "I" or label != kind):
            out.append((kind, start, n))
            start = -1
        if start < 0 and (prefix == "B" or prefix == "I"):
            start = n
            kind = label
    if start >= 0:
        out.append((kind, start, n + 1))
    return out


def entity_counts(
    gold: Sequence[Row], preds: Mapping[Any, Row]
) -> tuple[Counts, dict[str, Counts]]:
    """Strict span matches of ``preds`` (by row id) against ``gold``: the micro counts and the
    counts of each label found in the gold or the predicted spans, labels sorted."""
    # label -> the (row id, first, end) of its spans; a span is in one label's set only, so the
    # micro counts are the sums of the labels' counts
    by_gold: defaultdict[str, set[tuple[Any, int, int]]] = defaultdict(set)
    by_pred: defaultdict[str, set[tuple[Any, int, int]]] = defaultdict(set)
    for r in gold:
        rid = r["id"]
        _spans_into(r["ner_tags"], rid, by_gold)
        _spans_into(preds[rid]["ner_tags"], rid, by_pred)
    per_label: dict[str, Counts] = {}
    tp = n_pred = n_gold = 0
    for label in sorted(set(by_gold) | set(by_pred)):
        g = by_gold[label]
        p = by_pred[label]
        counts = (len(g & p), len(p), len(g))
        per_label[label] = counts
        tp += counts[0]
        n_pred += counts[1]
        n_gold += counts[2]
    return (tp, n_pred, n_gold), per_label


def _spans_into(tags: Any, rid: Any, out: defaultdict[str, set[tuple[Any, int, int]]]) -> None:
    """Add the :func:`iob2_spans` of ``tags`` to ``out``, as ``(rid, first, end)`` by type."""
    if isinstance(tags, list) and tags.count("O") == len(tags):
        return
    for kind, s, e in iob2_spans(tags):
        out[kind].add((rid, s, e))


# ---------------------------------------------------------------------------------------------
# claims


def claim_counts(gold: Sequence[Row], preds: Mapping[Any, Row]) -> dict[str, tuple[Any, Any, Any]]:
    """The counts of the claims metrics: ``detection`` (sentences), ``span_overlap``
    (characters) and the claimer matches ``REPORTED``, ``AUTHOR`` and ``all``."""
    tp = n_guess = n_truth = 0
    gold_claims: defaultdict[Any, dict[Any, tuple[Any, Any, Any, Any]]] = defaultdict(dict)
    pred_claims: defaultdict[Any, dict[tuple[Any, Any], Any]] = defaultdict(dict)
    for r in gold:
        pred = preds[r["id"]]
        truth = bool(r["is_claim"])
        guess = bool(pred["is_claim"])
        tp += truth and guess
        n_truth += truth
        n_guess += guess
        doc = r["document_id"]
        for c in r["claims"]:
            gold_claims[doc][c["claim_id"]] = (c["start"], c["end"], c["attribution"], c["claimer"])
        for c in pred.get("claims", []):
            pred_claims[doc].setdefault((c["start"], c["end"]), c["claimer"])

    overlap: Any = 0
    gold_chars: Any = 0
    pred_chars: Any = 0
    hits: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    for doc in sorted(set(gold_claims) | set(pred_claims)):
        g_spans = sorted(gold_claims[doc].values())
        p_spans = sorted(pred_claims[doc].items())
        gc = _cover([(g[0], g[1]) for g in g_spans])
        pc = _cover([p[0] for p in p_spans])
        overlap = overlap + _common(gc, pc)
        gold_chars = gold_chars + _size(gc)
        pred_chars = pred_chars + _size(pc)
        for g in g_spans:
            n_gold[g[2]] += 1
        for p in p_spans:
            n_pred["REPORTED" if p[1] is not None else "AUTHOR"] += 1
        for gi, pi in _match([(g[0], g[1]) for g in g_spans], [p[0] for p in p_spans]):
            attribution = g_spans[gi][2]
            pred_claimer = p_spans[pi][1]
            if attribution == "AUTHOR":
                hits["AUTHOR"] += pred_claimer is None
            else:
                hits["REPORTED"] += pred_claimer is not None and _norm(pred_claimer) == _norm(
                    g_spans[gi][3]
                )
    out: dict[str, tuple[Any, Any, Any]] = {
        "detection": (tp, n_guess, n_truth),
        "span_overlap": (overlap, pred_chars, gold_chars),
    }
    for a in ("REPORTED", "AUTHOR"):
        out[a] = (hits[a], n_pred[a], n_gold[a])
    out["all"] = (sum(hits.values()), sum(n_pred.values()), sum(n_gold.values()))
    return out


def _norm(name: Any) -> Any:
    return None if name is None else " ".join(name.split()).casefold()


def _cover(spans: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The characters covered by ``spans`` as sorted, disjoint, non-empty ranges."""
    out: list[tuple[Any, Any]] = []
    for s, e in sorted(spans):
        if s >= e:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _size(cover: list[tuple[Any, Any]]) -> Any:
    total: Any = 0
    for s, e in cover:
        total = total + (e - s)
    return total


def _common(a: list[tuple[Any, Any]], b: list[tuple[Any, Any]]) -> Any:
    """The number of characters in both covers (each sorted and disjoint)."""
    i = 0
    j = 0
    total: Any = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if hi > lo:
            total = total + (hi - lo)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _match(gold: list[tuple[Any, Any]], pred: list[tuple[Any, Any]]) -> list[tuple[int, int]]:
    """One-to-one pairs (gold index, predicted index) of overlapping spans, largest overlap
    first, ties broken by position so the result never depends on input order."""
    pairs: list[tuple[Any, Any, Any, int, int]] = []
    for gi, (gs, ge) in enumerate(gold):
        for pi, (ps, pe) in enumerate(pred):
            ov = min(ge, pe) - max(gs, ps)
            if ov > 0:
                pairs.append((-ov, gs, ps, gi, pi))
    pairs.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    out: list[tuple[int, int]] = []
    for pair in pairs:
        gi = pair[3]
        pi = pair[4]
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            out.append((gi, pi))
    return out


# ---------------------------------------------------------------------------------------------
# the rules baseline's entity tagger

# Capitalised words that open sentences or titles rather than names.
STOP: Final = frozenset(
    [
        "A",
        "An",
        "The",
        "This",
        "That",
        "These",
        "Those",
        "It",
        "Its",
        "He",
        "She",
        "We",
        "They",
        "I",
        "You",
        "His",
        "Her",
        "Their",
        "Our",
        "My",
        "In",
        "On",
        "At",
        "For",
        "From",
        "By",
        "With",
        "As",
        "But",
        "And",
        "Or",
        "If",
        "When",
        "While",
        "After",
        "Before",
        "Since",
        "Also",
        "According",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "READ",
        "MORE",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
)
# Titles before a name: the claimer is the name after the last of them ("Treasury Secretary X").
TITLES: Final = frozenset(
    [
        "President",
        "Minister",
        "Secretary",
        "Envoy",
        "Ambassador",
        "Col",
        "Col.",
        "Gen",
        "Gen.",
        "General",
        "Spokesman",
        "Spokeswoman",
        "Chairman",
        "Director",
        "Senator",
        "Governor",
        "Mayor",
        "Adviser",
        "Advisor",
        "Security",
        "Chief",
    ]
)
_NOT_NAMES: Final = STOP | TITLES
_CONNECTORS: Final = frozenset({"of", "de", "del", "la", "al", "and"})
_ORG_WORDS: Final = frozenset(
    [
        "Ministry",
        "Embassy",
        "Organization",
        "Organisation",
        "Times",
        "Treasury",
        "Party",
        "Council",
        "Committee",
        "Agency",
        "Bank",
        "Company",
        "Corporation",
        "Corp",
        "Inc",
        "Ltd",
        "University",
        "Department",
        "Army",
        "Forces",
        "Court",
        "Union",
        "Commission",
        "News",
        "Press",
        "Post",
        "International",
        "Institute",
        "Association",
        "Office",
        "Congress",
        "Parliament",
        "Senate",
        "Government",
        "Twitter",
        "Facebook",
        "Reuters",
    ]
)
_NORP_END: Final = re.compile(r"(?:ans?|ese|ish|ians?)$")
# label -> its B- and I- tags
_TAGS: Final = {label: (f"B-{label}", f"I-{label}") for label in ("ORG", "NORP", "GPE", "PER")}


def _capitalised(tok: str) -> bool:
    return tok[:1].isupper() and tok not in _NOT_NAMES


def capitalised_spans(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Token ranges of runs of capitalised words (joined by 'of', 'de'... between two of them)."""
    caps = [_capitalised(t) for t in tokens]
    spans: list[tuple[int, int]] = []
    n = len(caps)
    i = 0
    while i < n:
        if not caps[i]:
            i += 1
            continue
        j = i + 1
        while j < n:
            if caps[j]:
                j += 1
            elif j + 1 < n and caps[j + 1] and tokens[j] in _CONNECTORS:
                j += 2
            else:
                break
        spans.append((i, j))
        i = j
    return spans


def entity_label(words: Sequence[str]) -> str:
    """A label from the shape of a capitalised span alone (no gazetteer, nothing learned)."""
    for w in words:
        if w in _ORG_WORDS:
            return "ORG"
    if len(words) == 1:
        w = words[0]
        if w.isupper() and len(w) >= 3 and w.isalpha() and len(w) <= 5:
            return "ORG"  # acronyms: OAS, NATO
        if _NORP_END.search(w) and not w.isupper():
            return "NORP"
        return "GPE"
    return "PER"


def rules_tags(tokens: Sequence[str]) -> list[str]:
    """The rules baseline's IOB2 tags: each capitalised span, labelled by its shape."""
    tags = ["O"] * len(tokens)
    for s, e in capitalised_spans(tokens):
        begin, inside = _TAGS[entity_label(tokens[s:e])]
        tags[s] = begin
        for i in range(s + 1, e):
            tags[i] = inside
    return tags


# ---------------------------------------------------------------------------------------------
# the rules baseline's claimer

_CUES: Final = re.compile(
    r"\b(?:said|says|say|told|tells|claimed|claims|stated|states|accused|accuses|announced|"
    r"declared|argued|added|noted|wrote|insisted|warned|reported|denied|stressed|explained|"
    r"confirmed|alleged|according to|believes?)\b"
)
_NAME: Final = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:(?:of|de|del)\s+)?[A-Z][\w’'.-]*)*")
_POSSESSIVE: Final = re.compile(r"[’']s$")


def cue_claimer(sentence: str) -> tuple[bool, str | None]:
    """(has a reporting cue, its claimer): the name right after the cue ("said Tarre"), else
    the capitalised name nearest before the cue, else the first after it."""
    cue = _CUES.search(sentence)
    if cue is None:
        return False, None
    names: list[tuple[re.Match[str], str]] = []
    for m in _NAME.finditer(sentence):
        n = _clean_name(m.group())
        if n:
            names.append((m, n))
    cue_start = cue.start()
    cue_end = cue.end()
    if cue.group() in ("said", "says"):  # '"No", said Tarre.' (not "told Sputnik")
        for m, n in names:
            if (
                m.start() >= cue_end
                and not sentence[cue_end : m.start()].strip()
                and sentence[m.end() :].strip()[:1] in ("", ".", ",", ";")
            ):
                return True, n
    before = [n for m, n in names if m.end() <= cue_start]
    if before:
        return True, before[-1]
    after = [n for m, n in names if m.start() >= cue_end]
    return True, after[0] if after else None


def _clean_name(span: str) -> str | None:
    """Drop sentence openers and titles before a name, and a possessive after it."""
    words = span.split()
    while words and words[0] in STOP:
        words.pop(0)
    titled = [k for k, w in enumerate(words) if w in TITLES]
    if titled:
        words = words[titled[-1] + 1 :]
    if words:
        words[-1] = _POSSESSIVE.sub("", words[-1].rstrip("."))
    return " ".join(words) or None
