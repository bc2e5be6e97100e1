"""Agreement metrics: exact figures on the three-annotator fixture, and every coefficient checked
against an independent implementation (scipy's assignment solver, scikit-learn, krippendorff)."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from builder.agreement import (
    Agreement,
    DocAgreement,
    cohen_kappa,
    exact_matches,
    krippendorff_alpha,
    match_spans,
    summarize,
)
from builder.articles import read_articles
from builder.cli import main
from builder.labelstudio import read_export
from builder.merge import merge
from builder.records import Entity, SpanCount, UnitLabel

ROOT = Path(__file__).resolve().parent.parent
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
    data = [[float(values.index(units[k][c])) if c in units[k] else np.nan
             for k in sorted(units)] for c in coders]
    return float(krippendorff.alpha(reliability_data=np.array(data),
                                    level_of_measurement="nominal"))


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
    units = [{f"c{i}": str(row[u]) for i, row in enumerate(table) if row[u] is not None}
             for u in range(12)]
    assert round(krippendorff_alpha(units), 3) == 0.743


def test_alpha_random_data_with_missing_values():
    rng = random.Random(7)
    for _ in range(25):
        coders, n_units = rng.randint(2, 5), rng.randint(3, 30)
        data = [[rng.choice([0, 1, 2, None]) for _ in range(n_units)] for _ in range(coders)]
        units = [{c: str(data[c][u]) for c in range(coders) if data[c][u] is not None}
                 for u in range(n_units)]
        mine = krippendorff_alpha(units)
        arr = np.array([[np.nan if v is None else float(v) for v in row] for row in data])
        pairable = sum(1 for u in units if len(u) >= 2)
        if mine is None:
            assert pairable == 0 or len({v for u in units if len(u) >= 2 for v in u.values()}) < 2
            continue
        assert mine == pytest.approx(krippendorff.alpha(reliability_data=arr,
                                                        level_of_measurement="nominal"),
                                     abs=1e-9)


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
            ok = np.array([[1 if x.label == y.label and x.start < y.end and y.start < x.end
                            else 0 for y in b] for x in a])
            rows, cols = linear_sum_assignment(ok, maximize=True)
            assert len(pairs) == int(ok[rows, cols].sum())
        else:
            assert pairs == []


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
                    spans.append(SpanCount(a, b, kind, label, n_a, n_b,
                                           rng.randint(0, overlap), overlap))
        for unit in range(rng.randint(0, 6)):
            for attribute, values in (("stance", "FAN"), ("attribution", "RA"),
                                      ("portrayal", "PNX"), ("claimer", ["e1", "e2", "-"]),
                                      ("target", ["e1", "e1|e2", "-", "e3"])):
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
    pairs = [(u[a], u[b]) for u in claimer.values()
             for a, b in itertools.combinations(sorted(u), 2)]
    links = {r["link"]: r for r in s.links}
    assert links["claimer"]["pairs"] == len(pairs)
    assert links["claimer"]["agreement"] == pytest.approx(
        sum(x == y for x, y in pairs) / len(pairs))


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
    assert (bounded.spans, bounded.categorical, bounded.links, bounded.pairs,
            bounded.by_annotator) == (full.spans, full.categorical, full.links, full.pairs,
                                      full.by_annotator)


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
    bad.write_text("[{\"id\": 1}]", encoding="utf-8")
    assert main(["agreement", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "'data' is a required property" in err or "data" in err
    assert main(["agreement", str(FIXTURE), "--adjudication", "coin_toss"]) == 2
    assert "bad adjudication policy 'coin_toss'" in capsys.readouterr().err
