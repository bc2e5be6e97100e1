"""Agreement metrics: exact figures on the three-annotator fixture, and every coefficient checked
against an independent implementation (scipy's assignment solver, scikit-learn, krippendorff)."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score
from sklearn.preprocessing import MultiLabelBinarizer
from support.figures import budget

from builder.cli.main import main
from builder.core.merge import merge
from builder.io.articles import read_articles
from builder.io.exports import read_export
from builder.quality import agreement as agreement_module
from builder.quality.agreement import (
    NONE,
    Agreement,
    DocAgreement,
    cohen_kappa,
    exact_matches,
    krippendorff_alpha,
    match_spans,
    span_counts,
    summarize,
    unit_labels,
)
from builder.records import Claim, Entity, SpanCount, UnitLabel

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "three_annotators.json"


@pytest.fixture(scope="module")
def doc():
    articles = {a.id: a for a in read_articles(ROOT / "articles")}
    task = next(read_export(FIXTURE))
    return merge(articles[task.article_id], task)


@pytest.fixture(scope="module")
def summary(doc):
    return summarize([DocAgreement.from_document(doc)])


def _units(doc, attribute):
    out: dict[str, dict[str, str]] = {}
    for u in doc.annotation.labels:
        if u.attribute == attribute:
            out.setdefault(u.unit, {})[u.annotator] = u.value
    return out


# --- exact figures on the fixture (the edits are listed in tests/fixtures/make_three_annotators.py)


def test_fixture_span_figures(doc, summary):
    assert doc.annotation.n_annotators == 3
    rows = {(r["kind"], r["label"]): r for r in summary.spans}
    # Twitter drawn by one annotator of three; Russia GPE by two, LOC by one; China by two.
    assert rows[("entity", "all")]["spans"] == 396
    assert round(rows[("entity", "all")]["exact_f1"], 6) == round(2 * 194 / 396, 6)
    assert rows[("entity", "LOC")]["exact_f1"] == 0.0
    assert rows[("entity", "PER")]["exact_f1"] == 1.0
    # claims: one drawn a word shorter (overlap, not exact), one left out by one annotator
    claim = rows[("claim", "all")]
    assert claim["spans"] == 130
    assert round(claim["exact_f1"], 6) == round(2 * 62 / 130, 6)
    assert round(claim["overlap_f1"], 6) == round(2 * 64 / 130, 6)
    assert round(doc.annotation.agreement, 6) == round(2 * (194 + 62) / (396 + 130), 6)


def test_fixture_label_figures(summary):
    cat = {r["attribute"]: r for r in summary.categorical}
    assert cat["stance"]["units"] == 22
    # Worked by hand from the coincidence matrix, alpha = 1 - (n - 1) * D_o / sum n_c n_k.
    # Stance: 65 pairable values (21 claims x 3, c10 x 2); AGAINST 40, NEUTRAL 19, FAVOR 6;
    # disagreement mass 3 (c4: NEUTRAL/FAVOR/AGAINST) + 2 (c16: FAVOR, FAVOR, NEUTRAL).
    assert cat["stance"]["alpha"] == pytest.approx(1 - 64 * 5 / (65**2 - 40**2 - 19**2 - 6**2))
    # Attribution: REPORTED 56, AUTHOR 9; disagreement mass 2 (c11).
    assert cat["attribution"]["alpha"] == pytest.approx(1 - 64 * 2 / (65**2 - 56**2 - 9**2))
    # Portrayal: 16 mentions x 3; three Maduro mentions NEGATIVE, NEGATIVE, NEUTRAL.
    assert cat["portrayal"]["alpha"] == pytest.approx(1 - 47 * 6 / (48**2 - 6**2 - 42**2))
    links = {r["link"]: r for r in summary.links}
    assert links["claimer"]["pairs"] == 64
    assert links["claimer"]["agreement"] == 60 / 64  # c11 (AUTHOR by one: 2 pairs), c13 (2 pairs)
    # Targets: 24 per annotator on the 21 claims all drew (+1 extra on c1 by one), c10 pair 1+1;
    # common: 3 x 24 + 1.
    assert links["target"]["agreement"] == pytest.approx(2 * 73 / (2 * (24 + 24 + 25) + 2))


def test_per_annotator_and_per_article_rows(summary, doc):
    assert [r["annotator"] for r in summary.by_annotator] == sorted(doc.annotation.annotator_ids)
    assert all(r["annotator"].startswith("ann-") for r in summary.by_annotator)
    assert [r["id"] for r in summary.by_article] == [doc.id]
    assert summary.by_article[0]["agreement"] == doc.annotation.agreement
    assert len(summary.pairs) == 9  # 3 attributes x 3 annotator pairs


def _package_alpha(units: dict) -> float:
    """Nominal alpha of ``units`` ({unit: {coder: value}}) by the krippendorff package."""
    coders = sorted({a for u in units.values() for a in u})
    values = sorted({v for u in units.values() for v in u.values()})
    data = [
        [float(values.index(units[k][c])) if c in units[k] else np.nan for k in sorted(units)]
        for c in coders
    ]
    return float(
        krippendorff.alpha(reliability_data=np.array(data), level_of_measurement="nominal")
    )


# --- independent cross-checks


def test_alpha_matches_krippendorff_package_on_fixture(doc):
    for attribute in ("stance", "attribution", "portrayal", "claimer"):
        units = _units(doc, attribute)
        expected = _package_alpha(units)
        assert krippendorff_alpha(units.values()) == pytest.approx(expected, abs=1e-12)


def test_alpha_textbook_example():
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability', nominal: 0.743."""
    table = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [
        {f"c{i}": str(row[u]) for i, row in enumerate(table) if row[u] is not None}
        for u in range(12)
    ]
    assert round(krippendorff_alpha(units), 3) == 0.743


def test_alpha_random_data_with_missing_values():
    rng = random.Random(7)
    for _ in range(25):
        coders, n_units = rng.randint(2, 5), rng.randint(3, 30)
        data = [[rng.choice([0, 1, 2, None]) for _ in range(n_units)] for _ in range(coders)]
        units = [
            {c: str(data[c][u]) for c in range(coders) if data[c][u] is not None}
            for u in range(n_units)
        ]
        mine = krippendorff_alpha(units)
        arr = np.array([[np.nan if v is None else float(v) for v in row] for row in data])
        pairable = sum(1 for u in units if len(u) >= 2)
        if mine is None:
            assert pairable == 0 or len({v for u in units if len(u) >= 2 for v in u.values()}) < 2
            continue
        assert mine == pytest.approx(
            krippendorff.alpha(reliability_data=arr, level_of_measurement="nominal"), abs=1e-9
        )


def test_kappa_matches_scikit_learn(doc, summary):
    for row in summary.pairs:
        units = _units(doc, row["attribute"])
        a, b = row["annotator_a"], row["annotator_b"]
        xs = [units[k][a] for k in sorted(units) if a in units[k] and b in units[k]]
        ys = [units[k][b] for k in sorted(units) if a in units[k] and b in units[k]]
        assert row["units"] == len(xs)
        assert row["kappa"] == pytest.approx(cohen_kappa_score(xs, ys), abs=1e-12)
        assert row["agreement"] == pytest.approx(accuracy_score(xs, ys), abs=1e-12)
    rng = random.Random(3)
    for _ in range(50):
        xs = [rng.choice("ABC") for _ in range(20)]
        ys = [x if rng.random() < 0.6 else rng.choice("ABC") for x in xs]
        pairs = list(zip(xs, ys, strict=True))
        assert cohen_kappa(pairs) == pytest.approx(cohen_kappa_score(xs, ys))


def test_link_figures_match_scikit_learn(doc, summary):
    claimer, target = _units(doc, "claimer"), _units(doc, "target")
    xs, ys, ta, tb = [], [], [], []
    for k in sorted(claimer):
        for a, b in itertools.combinations(sorted(claimer[k]), 2):
            xs.append(claimer[k][a])
            ys.append(claimer[k][b])
            ta.append(set() if target[k][a] == "-" else set(target[k][a].split("|")))
            tb.append(set() if target[k][b] == "-" else set(target[k][b].split("|")))
    links = {r["link"]: r for r in summary.links}
    assert links["claimer"]["agreement"] == pytest.approx(accuracy_score(xs, ys))
    binarizer = MultiLabelBinarizer().fit(ta + tb)
    expected = f1_score(binarizer.transform(ta), binarizer.transform(tb), average="micro")
    assert links["target"]["agreement"] == pytest.approx(expected)


def _random_spans(rng: random.Random, n: int) -> list[Entity]:
    out = []
    for k in range(n):
        s = rng.randint(0, 60)
        out.append(Entity(f"e{k}", s, s + rng.randint(1, 8), "x", rng.choice(["PER", "ORG"])))
    return out


def test_overlap_matching_is_maximum_like_scipy():
    rng = random.Random(11)
    for _ in range(200):
        a, b = _random_spans(rng, rng.randint(0, 9)), _random_spans(rng, rng.randint(0, 9))
        pairs = match_spans(a, b)
        assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
        for i, j in pairs:
            assert a[i].label == b[j].label and a[i].start < b[j].end and b[j].start < a[i].end
        if a and b:
            ok = np.array(
                [
                    [
                        1 if x.label == y.label and x.start < y.end and y.start < x.end else 0
                        for y in b
                    ]
                    for x in a
                ]
            )
            rows, cols = linear_sum_assignment(ok, maximize=True)
            assert len(pairs) == int(ok[rows, cols].sum())
        else:
            assert pairs == []


# --- the matching gives what the previous, all-pairs implementation gave (kept here verbatim)


def _old_overlap(a, b) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _old_match_spans(a, b) -> list[tuple[int, int]]:
    prefs: list[list[int]] = []
    for x in a:
        cand = [j for j, y in enumerate(b) if y.label == x.label and _old_overlap(x, y) > 0]

        def rank(j: int, x=x) -> tuple[int, float, int]:
            y = b[j]
            union = max(x.end, y.end) - min(x.start, y.start)
            exact = (y.start, y.end) == (x.start, x.end)
            return (0 if exact else 1, -_old_overlap(x, y) / union, j)

        prefs.append(sorted(cand, key=rank))
    owner: dict[int, int] = {}  # j -> i

    def augment(i: int, seen: set[int]) -> bool:
        for j in prefs[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in sorted(range(len(a)), key=lambda i: (a[i].start, a[i].end, i)):
        augment(i, set())
    return sorted((i, j) for j, i in owner.items())


def _old_exact_matches(a, b) -> int:
    ka = Counter((x.start, x.end, x.label) for x in a)
    kb = Counter((y.start, y.end, y.label) for y in b)
    return sum((ka & kb).values())


def _old_span_counts(annotator_a, a, annotator_b, b) -> list[SpanCount]:
    out: list[SpanCount] = []
    for kind, xs, ys in (("entity", a[0], b[0]), ("claim", a[1], b[1])):
        xs_claim = [_OldLabelled(x, "CLAIM") for x in xs] if kind == "claim" else list(xs)
        ys_claim = [_OldLabelled(y, "CLAIM") for y in ys] if kind == "claim" else list(ys)
        for label in sorted({s.label for s in xs_claim} | {s.label for s in ys_claim}):
            xa = [s for s in xs_claim if s.label == label]
            yb = [s for s in ys_claim if s.label == label]
            out.append(
                SpanCount(
                    annotator_a,
                    annotator_b,
                    kind,
                    label,
                    len(xa),
                    len(yb),
                    _old_exact_matches(xa, yb),
                    len(_old_match_spans(xa, yb)),
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class _OldLabelled:
    region: Any
    label: str

    @property
    def start(self) -> int:
        return int(self.region.start)

    @property
    def end(self) -> int:
        return int(self.region.end)


def _old_unit_labels(annotator, version, gold_entities, gold_claims) -> list[UnitLabel]:
    entities, claims = version
    out: list[UnitLabel] = []
    to_gold: dict[str, str] = {}
    for i, j in _old_match_spans(entities, gold_entities):
        to_gold[entities[i].id] = gold_entities[j].id
        if entities[i].portrayal is not None:
            out.append(
                UnitLabel(gold_entities[j].id, "portrayal", annotator, entities[i].portrayal)
            )
    spans = {e.id: e for e in entities}

    def name(entity_id: str) -> str:
        if entity_id in to_gold:
            return to_gold[entity_id]
        e = spans[entity_id]
        return f"@{e.start}-{e.end}"

    mine = [_OldLabelled(c, "CLAIM") for c in claims]
    gold = [_OldLabelled(c, "CLAIM") for c in gold_claims]
    for i, j in _old_match_spans(mine, gold):
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


class _Offset(int):
    """An int subclass, standing for int-likes other than int and numpy's signed integers."""


# Offsets of these types (mixed within a list); numpy's unsigned integers are left out, as their
# differences wrap around. Compiled (setup.py), the matching reads offsets as the ``int`` their
# type says (an int subclass too): numpy's integers are then left out as well.
OFFSET_TYPES = st.sampled_from(
    [int, _Offset]
    if str(agreement_module.__file__).endswith(tuple(EXTENSION_SUFFIXES))
    else [int, np.int64, np.int32, _Offset]
)
# Regions shared by the lists: exact, shifted by one, nested in or around each other, long,
# empty or reversed, duplicated.
REGIONS = st.lists(
    st.tuples(st.integers(-3, 40), st.one_of(st.integers(-2, 8), st.integers(9, 50))), max_size=8
)


@st.composite
def _offsets(draw: Any, regions: list[tuple[int, int]]) -> tuple[Any, Any]:
    if regions and draw(st.booleans()):
        start, length = draw(st.sampled_from(regions))
        start += draw(st.sampled_from([0, 0, 0, -1, 1]))
    else:
        start, length = draw(st.integers(-3, 40)), draw(st.integers(-2, 50))
    to = draw(OFFSET_TYPES)
    return to(start), to(start + length)


@st.composite
def _entities(
    draw: Any, regions: list[tuple[int, int]], labels: list[str], prefix: str
) -> list[Entity]:
    out = []
    for k in range(draw(st.integers(0, 12))):
        start, end = draw(_offsets(regions))
        out.append(
            Entity(
                f"{prefix}{k}",
                start,
                end,
                "x",
                draw(st.sampled_from(labels)),
                draw(st.sampled_from([None, "NEGATIVE", "NEUTRAL"])),
            )
        )
    return out


@st.composite
def _claims(
    draw: Any, regions: list[tuple[int, int]], entity_ids: list[str], prefix: str
) -> list[Claim]:
    out = []
    ids = st.sampled_from(entity_ids) if entity_ids else st.nothing()
    for k in range(draw(st.integers(0, 6))):
        start, end = draw(_offsets(regions))
        claimer = draw(st.one_of(st.none(), ids)) if entity_ids else None
        targets = tuple(draw(st.lists(ids, max_size=3))) if entity_ids else ()
        out.append(
            Claim(
                f"{prefix}{k}",
                start,
                end,
                "x",
                claimer,
                targets,
                draw(st.sampled_from(["AUTHOR", "REPORTED"])),
                draw(st.sampled_from(["FAVOR", "AGAINST"])),
            )
        )
    return out


@st.composite
def _versions(draw: Any) -> tuple[tuple[list[Entity], list[Claim]], ...]:
    """Two annotators' versions drawn from shared regions, with one label or several."""
    regions = draw(REGIONS)
    labels = draw(st.sampled_from([["PER"], ["PER", "ORG"], ["PER", "ORG", "GPE"]]))
    out = []
    for prefix in ("a", "b"):
        entities = draw(_entities(regions, labels, prefix))
        out.append((entities, draw(_claims(regions, [e.id for e in entities], f"{prefix}c"))))
    return tuple(out)


SETTINGS = settings(
    max_examples=budget("CLAIMWIRE_FUZZ_EXAMPLES", 200),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@SETTINGS
@given(_versions())
def test_match_spans_as_the_all_pairs_implementation(versions):
    (a, _), (b, _) = versions
    assert match_spans(a, b) == _old_match_spans(a, b)
    assert match_spans(b, a) == _old_match_spans(b, a)
    assert match_spans(a, a) == _old_match_spans(a, a)


@SETTINGS
@given(_versions())
def test_span_counts_and_unit_labels_as_before(versions):
    a, b = versions
    assert span_counts("ann-a", a, "ann-b", b) == _old_span_counts("ann-a", a, "ann-b", b)
    assert unit_labels("ann-a", a, *b) == _old_unit_labels("ann-a", a, *b)


def test_match_spans_ties_and_long_spans():
    """Exact partners first, then the larger Jaccard overlap, then the lower index; a long span
    is found by spans that start well after it; empty and reversed spans match nothing."""

    def spans(*xs: tuple[int, int]) -> list[Entity]:
        return [Entity(f"e{k}", s, e, "x", "PER") for k, (s, e) in enumerate(xs)]

    assert match_spans(spans((0, 4)), spans((2, 6), (0, 4), (0, 4))) == [(0, 1)]
    assert match_spans(spans((0, 4)), spans((0, 8), (2, 4), (0, 2))) == [(0, 0)]
    assert match_spans(spans((0, 4)), spans((0, 8), (3, 7))) == [(0, 0)]  # 4/8 over 1/7
    assert match_spans(spans((0, 4), (4, 8)), spans((2, 6))) == [(0, 0)]
    b = spans((0, 100), (1, 2), (3, 4), (5, 6))
    assert match_spans(spans((1, 2), (50, 60), (3, 4)), b) == [(0, 1), (1, 0), (2, 2)]
    assert match_spans([], b) == match_spans(b, []) == []
    for a, c in itertools.product([spans((5, 5)), spans((6, 5))], [b, spans((5, 5))]):
        assert match_spans(a, c) == []


def _unique(spans: list[Entity]) -> list[Entity]:
    return list({(x.start, x.end, x.label): x for x in spans}.values())


def test_exact_f1_matches_scikit_learn():
    rng = random.Random(5)
    for _ in range(100):
        a = _unique(_random_spans(rng, rng.randint(1, 9)))
        b = _unique(_random_spans(rng, rng.randint(1, 9)))
        ka = {(x.start, x.end, x.label) for x in a}
        kb = {(y.start, y.end, y.label) for y in b}
        keys = sorted(ka | kb)
        expected = f1_score([k in ka for k in keys], [k in kb for k in keys], zero_division=0)
        assert 2 * exact_matches(a, b) / (len(a) + len(b)) == pytest.approx(expected)


def test_undefined_coefficients_are_none():
    assert krippendorff_alpha([{"a": "X", "b": "X"}, {"a": "X", "b": "X"}]) is None
    assert krippendorff_alpha([{"a": "X"}]) is None
    assert cohen_kappa([("X", "X"), ("X", "X")]) is None
    assert cohen_kappa([]) is None


# --- many documents: the accumulator pools them as one list would


def _random_doc(rng: random.Random, k: int) -> DocAgreement:
    coders = rng.sample([f"ann-{i}" for i in range(5)], rng.randint(1, 4))
    spans, labels = [], []
    if len(coders) >= 2:
        for a, b in itertools.combinations(coders, 2):
            for kind, names in (("entity", ["PER", "ORG", "GPE"]), ("claim", ["CLAIM"])):
                for label in rng.sample(names, rng.randint(0, len(names))):
                    n_a, n_b = rng.randint(0, 5), rng.randint(0, 5)
                    overlap = rng.randint(0, min(n_a, n_b))
                    spans.append(
                        SpanCount(a, b, kind, label, n_a, n_b, rng.randint(0, overlap), overlap)
                    )
        for unit in range(rng.randint(0, 6)):
            for attribute, values in (
                ("stance", "FAN"),
                ("attribution", "RA"),
                ("portrayal", "PNX"),
                ("claimer", ["e1", "e2", "-"]),
                ("target", ["e1", "e1|e2", "-", "e3"]),
            ):
                for who in coders:
                    if rng.random() < 0.8:
                        labels.append(UnitLabel(f"c{unit}", attribute, who, rng.choice(values)))
    agreement = rng.choice([None, 1.0, 0.5, round(rng.random(), 2)])
    return DocAgreement(f"d{k:03d}", len(coders), agreement, tuple(spans), tuple(labels))


def _pooled_units(docs, attribute):
    out: dict[tuple[str, str], dict[str, str]] = {}
    for d in docs:
        for u in d.labels:
            if u.attribute == attribute:
                out.setdefault((d.id, u.unit), {})[u.annotator] = u.value
    return out


def test_pooled_figures_match_independent_implementations():
    rng = random.Random(17)
    docs = [_random_doc(rng, k) for k in range(150)]
    s = summarize(docs)
    assert s.documents == 150 and s.multi == sum(1 for d in docs if d.spans or d.labels)
    rows = {(r["kind"], r["label"]): r for r in s.spans}
    for kind in ("entity", "claim"):
        mine = [sc for d in docs for sc in d.spans if sc.kind == kind]
        total = sum(sc.n_a + sc.n_b for sc in mine)
        assert rows[(kind, "all")]["spans"] == total
        assert rows[(kind, "all")]["exact_f1"] == 2 * sum(sc.exact for sc in mine) / total
    cat = {r["attribute"]: r for r in s.categorical}
    for attribute in ("stance", "attribution", "portrayal"):
        units = _pooled_units(docs, attribute)
        expected = _package_alpha(units)
        assert cat[attribute]["alpha"] == pytest.approx(expected, abs=1e-12)
        assert cat[attribute]["units"] == sum(1 for u in units.values() if len(u) >= 2)
    for row in s.pairs:
        units = _pooled_units(docs, row["attribute"])
        a, b = row["annotator_a"], row["annotator_b"]
        keys = [k for k in sorted(units) if a in units[k] and b in units[k]]
        xs, ys = [units[k][a] for k in keys], [units[k][b] for k in keys]
        assert row["units"] == len(xs)
        if row["kappa"] is not None:
            assert row["kappa"] == pytest.approx(cohen_kappa_score(xs, ys), abs=1e-12)
        assert row["agreement"] == pytest.approx(accuracy_score(xs, ys), abs=1e-12)
    claimer = _pooled_units(docs, "claimer")
    pairs = [
        (u[a], u[b]) for u in claimer.values() for a, b in itertools.combinations(sorted(u), 2)
    ]
    links = {r["link"]: r for r in s.links}
    assert links["claimer"]["pairs"] == len(pairs)
    assert links["claimer"]["agreement"] == pytest.approx(
        sum(x == y for x, y in pairs) / len(pairs)
    )


def test_bounded_article_rows_are_the_lowest_ones():
    rng = random.Random(23)
    docs = [_random_doc(rng, k) for k in range(300)]
    full = summarize(docs)
    acc = Agreement(lowest=4)
    acc.skip(10)  # documents with a single annotator count, and nothing else
    for d in docs:
        acc.add(d)
    bounded = acc.summary()
    assert bounded.by_article == full.by_article[:4]
    assert bounded.documents == full.documents + 10
    assert (
        bounded.spans,
        bounded.categorical,
        bounded.links,
        bounded.pairs,
        bounded.by_annotator,
    ) == (full.spans, full.categorical, full.links, full.pairs, full.by_annotator)


# --- the command


def test_agreement_command(capsys):
    assert main(["agreement", str(FIXTURE), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["multi"] == 1 and out["annotators"] == 3
    assert [r["attribute"] for r in out["categorical"]] == ["stance", "attribution", "portrayal"]
    assert main(["agreement", str(FIXTURE)]) == 0
    text = capsys.readouterr().out
    assert "| stance | 22 | 0.856 | 0.847 |" in text


def test_agreement_command_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": 1}]', encoding="utf-8")
    assert main(["agreement", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "'data' is a required property" in err or "data" in err
    assert main(["agreement", str(FIXTURE), "--adjudication", "coin_toss"]) == 2
    assert "bad adjudication policy 'coin_toss'" in capsys.readouterr().err
