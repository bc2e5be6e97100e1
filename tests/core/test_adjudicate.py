"""Adjudication policy: majority vote with its tie rule, ground truth, most recent, per-region
``decided_by``, review tasks and the settled result flowing back into a build."""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.helpers import seed_inputs

from builder.cli.main import main
from builder.contracts.features import features
from builder.contracts.schemas import load_schema, reference_validator
from builder.core import adjudicate as adjudicate_module
from builder.core.adjudicate import Policy, Version, adjudicate, needs_review, recency, voters
from builder.core.merge import MergeStats, merge, pseudonym, versions
from builder.errors import InvalidDataError, Problem, UsageError
from builder.io.articles import read_articles
from builder.io.exports import read_export
from builder.labelstudio.client import annotation_results
from builder.labelstudio.review import review_task
from builder.pipeline.build import build
from builder.records import Claim, Entity, decided

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "three_annotators.json"
ARTICLES = {a.id: a for a in read_articles(ROOT / "articles")}


def _task(path: Path = FIXTURE):
    return next(read_export(path))


def _merge(path: Path = FIXTURE, policy: Policy | None = None):
    task = _task(path)
    return merge(ARTICLES[task.article_id], task, policy=policy)


@pytest.fixture(scope="module")
def doc():
    return _merge()


def _claim(doc, key):
    return next(c for c in doc.claims if c.id == key)


def _entity(doc, entity_id):
    return next(e for e in doc.entities if e.id == entity_id)


def test_fixture_regenerates_identically():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_three_annotators", ROOT / "tests" / "fixtures" / "make_three_annotators.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.make() == json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_majority_vote_on_fixture(doc):
    assert doc.annotation.adjudication == "majority"
    assert doc.annotation.n_annotators == 3  # the fourth skipped the task
    assert len(doc.entities) == 66 and len(doc.claims) == 22
    decided = Counter(r.decided_by for r in (*doc.entities, *doc.claims))
    assert decided == {"majority": 87, "tie_most_recent": 1}
    texts = Counter(e.text for e in doc.entities)
    assert "Twitter" not in texts  # drawn by one of three
    assert texts["China"] == 1  # two of three
    assert next(e for e in doc.entities if e.text == "Russia").label == "GPE"  # LOC by one
    assert len({r.id for r in (*doc.entities, *doc.claims)}) == 88  # ids unique after the vote


def test_claim_values_are_voted(doc):
    c4 = _claim(doc, "c4")  # NEUTRAL / FAVOR / AGAINST: the most recent annotator's AGAINST
    assert (c4.stance, c4.decided_by) == ("AGAINST", "tie_most_recent")
    c6 = _claim(doc, "c6")  # one annotator drew it a word shorter
    spec = json.loads((ROOT / "annotations/gold/000_e5b139a28bf6bbf6.spec.json").read_text("utf-8"))
    assert c6.text == spec["claims"][5]["text"]  # the full span drawn by two of three
    assert _claim(doc, "c10").decided_by == "majority"  # two of three drew it
    c11 = _claim(doc, "c11")  # REPORTED+Maduro twice, AUTHOR once: voted as one pair
    assert c11.attribution == "REPORTED" and _entity(doc, c11.claimer_id).text == "Nicolas Maduro"
    assert _entity(doc, _claim(doc, "c13").claimer_id).text == "Tarre"
    assert [_entity(doc, t).text for t in _claim(doc, "c1").target_ids] == ["Venezuela"]
    assert _claim(doc, "c16").stance == "FAVOR"
    # "Maduro": NEGATIVE by two of three; "Nicolas Maduro" NEUTRAL by all
    assert [e.portrayal for e in doc.entities if e.text == "Maduro"] == ["NEGATIVE"] * 3
    assert {e.portrayal for e in doc.entities if e.text == "Nicolas Maduro"} == {"NEUTRAL"}


def _version(who: str, when: int, entities=(), claims=(), truth=False) -> Version:
    return Version(
        when, pseudonym(who), (f"2026-01-0{when}", when), truth, tuple(entities), tuple(claims)
    )


def test_tie_rule_with_two_annotators():
    a = Entity("e1", 0, 5, "Maduro", "PER")
    b = Entity("e2", 10, 16, "Guaido", "PER")
    older = _version("older", 1, [a])
    newer = _version("newer", 2, [b])
    gold = adjudicate([newer, older])
    assert gold.rule == "majority"
    assert [(e.id, e.decided_by) for e in gold.entities] == [("e2", "tie_most_recent")]
    both = adjudicate([_version("x", 1, [a]), _version("y", 2, [a])])
    assert [(e.id, e.decided_by) for e in both.entities] == [("e1", "majority")]


def test_linked_entity_is_kept():
    """Claimer tie: the most recent holder's claimer wins, and its entity is kept although only
    one annotator of three drew it."""
    x, y = Entity("e1", 0, 6, "Maduro", "PER"), Entity("e2", 50, 56, "Guaido", "PER")
    claim = dict(
        start=10, end=40, text="t" * 30, target_ids=(), attribution="REPORTED", stance="AGAINST"
    )
    a = _version("a", 1, [x], [Claim("c1", claimer_id="e1", **claim)])
    b = _version("b", 2, [y], [Claim("c1", claimer_id="e2", **claim)])
    c = _version("c", 3, [])
    gold = adjudicate([a, b, c])
    assert [(e.text, e.decided_by) for e in gold.entities] == [("Guaido", "linked")]
    assert gold.claims[0].claimer_id == gold.entities[0].id
    assert gold.claims[0].decided_by == "tie_most_recent"


def _targets_vote(*targets: tuple[str, ...]):
    """Voters, oldest first, who all drew the same claim and the same four entities and differ
    only in the claim's targets."""
    people = [Entity(f"e{k}", 10 * k, 10 * k + 5, f"Name{k}", "PER") for k in range(1, 5)]
    claim = dict(start=60, end=90, text="t" * 30, attribution="AUTHOR", stance="AGAINST")
    return [
        _version(
            f"voter{when}", when, people, [Claim("c1", claimer_id=None, target_ids=ts, **claim)]
        )
        for when, ts in enumerate(targets, start=1)
    ]


def test_a_tied_target_is_kept_only_with_the_most_recent_voter():
    older, newer = _targets_vote(("e1",), ("e2",))
    gold = adjudicate([older, newer])
    (claim,) = gold.claims
    assert (claim.target_ids, claim.decided_by) == (("e2",), "tie_most_recent")
    assert [(e.id, e.decided_by) for e in gold.entities] == [
        (f"e{k}", "majority") for k in range(1, 5)
    ]


def test_target_votes_among_four_voters():
    # e1: 3 of 4 (majority); e2: 2 of 4 with the most recent (tie, kept); e3: 2 of 4 without the
    # most recent (tie, dropped); e4: 1 of 4 (dropped)
    vote = _targets_vote(("e1", "e3"), ("e1", "e3", "e4"), ("e2",), ("e1", "e2"))
    (claim,) = adjudicate(vote).claims
    assert (claim.target_ids, claim.decided_by) == (("e1", "e2"), "tie_most_recent")
    (claim,) = adjudicate(_targets_vote(("e1",), ("e1", "e3"), ("e2",), ("e1",))).claims
    assert (claim.target_ids, claim.decided_by) == (("e1",), "majority")


def test_ground_truth_wins_and_agreement_ignores_it(doc, tmp_path):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    truth = copy.deepcopy(data[0]["annotations"][0])
    truth.update(
        id=200, completed_by=99, ground_truth=True, updated_at="2026-01-01T00:00:00.000000Z"
    )  # older than all: still wins
    data[0]["annotations"].append(truth)
    path = tmp_path / "with-truth.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    gt = _merge(path)
    assert gt.annotation.adjudication == "ground_truth"
    assert {r.decided_by for r in (*gt.entities, *gt.claims)} == {"ground_truth"}
    assert gt.annotation.n_annotators == 4
    assert gt.annotation.agreement == doc.annotation.agreement
    assert _claim(gt, "c4").stance == "NEUTRAL"  # annotator A's version, copied as truth


def test_policy_without_majority_takes_most_recent():
    doc = _merge(policy=Policy.parse("ground_truth,most_recent"))
    assert doc.annotation.adjudication == "most_recent"
    assert "c10" not in {c.id for c in doc.claims}  # the most recent annotator left c10 out
    assert {r.decided_by for r in (*doc.entities, *doc.claims)} == {"most_recent"}


def test_policy_parse_and_env(monkeypatch):
    assert Policy.parse("majority").rules == ("majority", "most_recent")
    with pytest.raises(UsageError) as exc:
        Policy.parse("majority,majority")
    assert "bad adjudication policy" in str(exc.value)
    monkeypatch.setenv("CLAIMWIRE_ADJUDICATION", "most_recent")
    assert Policy.from_env().rules == ("most_recent",)
    assert _merge().annotation.adjudication == "most_recent"


def test_every_annotation_is_checked(tmp_path):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data[0]["annotations"][1]["result"][0]["value"]["end"] += 3  # break B's first span
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidDataError) as exc:
        _merge(path)
    p = exc.value.problems[0]
    assert p.pointer == "/0/annotations/1/result/0/value"
    assert (p.task, p.article) == (1, "000_e5b139a28bf6bbf6")
    assert p.message == "span offsets do not match the span text"


# --- review tasks and the way back


def test_review_task_carries_every_version(doc):
    task = _task()
    usable = versions(ARTICLES[task.article_id].text, task, {}, MergeStats())
    assert needs_review(doc, threshold=0.5)  # the c4 stance tie alone sends it to review
    review = review_task(doc, task.id, usable, annotation_results(doc.to_row()))
    models = [p["model_version"] for p in review["predictions"]]
    assert models == [
        "adjudicated (majority)",
        *(f"annotator {pseudonym(u)}" for u in (11, 12, 13)),
    ]
    assert review["id"] == 1 and review["data"]["article_id"] == doc.id
    assert (
        review["predictions"][1]["result"]
        == json.loads(FIXTURE.read_text(encoding="utf-8"))[0]["annotations"][0]["result"]
    )


def test_review_command_and_settled_result_flows_back(tmp_path, capsys):
    out = tmp_path / "review.json"
    assert main(["review", str(FIXTURE), "--out", str(out), "--threshold", "0.99"]) == 0
    assert "1 review task(s)" in capsys.readouterr().out
    review = json.loads(out.read_text(encoding="utf-8"))
    # The reviewer starts from the adjudicated prediction, settles c4 as NEUTRAL, submits it as
    # ground truth; the next pull carries it as one more annotation of the same task.
    settled = copy.deepcopy(review[0]["predictions"][0]["result"])
    for r in settled:
        if r.get("id") == "c4" and r.get("from_name") == "stance":
            r["value"]["choices"] = ["NEUTRAL"]
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data[0]["annotations"].append(
        {
            "id": 300,
            "completed_by": 50,
            "result": settled,
            "was_cancelled": False,
            "ground_truth": True,
            "updated_at": "2026-02-01T00:00:00.000000Z",
        }
    )
    pulled = tmp_path / "pulled.json"
    pulled.write_text(json.dumps(data), encoding="utf-8")
    result = build(seed_inputs()[0], [pulled], tmp_path / "dist", "0.1.1")
    row = pq.read_table(result.path / "data/documents/train-00000-of-00001.parquet").to_pylist()[0]
    assert row["annotation"]["adjudication"] == "ground_truth"
    c4 = next(c for c in row["claims"] if c["id"] == "c4")
    assert (c4["stance"], c4["decided_by"]) == ("NEUTRAL", "ground_truth")
    assert len(row["entities"]) == 66 and len(row["claims"]) == 22
    assert main(["review", str(pulled), "--out", str(out)]) == 0  # settled: nothing to review
    assert json.loads(out.read_text(encoding="utf-8")) == []


# --- contracts


def _columns(feature) -> object:
    if isinstance(feature, dict):
        return {k: _columns(v) for k, v in feature.items()}
    inner = getattr(feature, "feature", None)
    return _columns(inner) if isinstance(inner, dict) else None


def _schema_columns(schema: dict, defs: dict) -> object:
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return _schema_columns(schema["items"], defs)
    if "properties" in schema:
        return {k: _schema_columns(v, defs) for k, v in schema["properties"].items()}
    return None


def test_documents_features_and_schema_have_the_same_columns():
    schema = load_schema("documents")
    assert _columns(dict(features()["documents"])) == _schema_columns(schema, schema["$defs"])


def test_release_rows_match_the_schema_reference_validator(doc):
    errors = list(reference_validator("documents").iter_errors(doc.to_row()))
    assert errors == []
    row = doc.to_row()
    row["entities"][0]["decided_by"] = "coin_toss"
    assert [e.validator for e in reference_validator("documents").iter_errors(row)] == ["enum"]


def test_push_review_attaches_predictions_to_the_existing_task():
    """What goes over the wire, through the SDK with an in-process transport (the SDK's own
    request building and paging are real; the server's answers are canned)."""
    import httpx
    from label_studio_sdk import LabelStudio

    from builder.labelstudio.review import push_review

    sent: list[tuple[str, str, dict]] = []

    def server(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        sent.append((request.method, request.url.path, body))
        if request.url.path == "/api/tasks/":
            if request.url.params.get("page", "1") != "1":
                return httpx.Response(404, json={"detail": "Invalid page."})
            return httpx.Response(
                200,
                json={
                    "tasks": [
                        {
                            "id": 7,
                            "data": {"article_id": "000_e5b139a28bf6bbf6", "text_sha256": "0" * 64},
                        }
                    ],
                    "total": 1,
                },
            )
        if request.url.path == "/api/predictions/":
            return httpx.Response(
                201, json={"id": len(sent), "task": body["task"], "result": body["result"]}
            )
        return httpx.Response(404, json={"detail": "Not found."})

    client = LabelStudio(
        base_url="http://127.0.0.1:9",
        api_key="k",
        httpx_client=httpx.Client(transport=httpx.MockTransport(server)),
    )
    review = [
        {
            "data": {"article_id": "000_e5b139a28bf6bbf6"},
            "predictions": [
                {
                    "model_version": "adjudicated (majority)",
                    "score": 0.97,
                    "result": [{"id": "c1"}],
                },
                {"model_version": "annotator ann-0123456789ab", "result": [{"id": "e1"}]},
            ],
        }
    ]
    assert push_review(client, 3, review) == 2
    posts = [b for m, path, b in sent if m == "POST"]
    assert posts == [
        {
            "task": 7,
            "model_version": "adjudicated (majority)",
            "score": 0.97,
            "result": [{"id": "c1"}],
        },
        {"task": 7, "model_version": "annotator ann-0123456789ab", "result": [{"id": "e1"}]},
    ]
    with pytest.raises(UsageError) as exc:
        push_review(client, 3, [{"data": {"article_id": "other"}, "predictions": []}])
    assert exc.value.problems[0].article == "other"


# --- exact rules (each assertion kills mutants of `make mutate`)


def _problem(text: str, source: str = "--adjudication") -> Problem:
    with pytest.raises(UsageError) as err:
        Policy.parse(text, source)
    (p,) = err.value.problems
    return p


@pytest.mark.parametrize(
    "text,found",
    [("majority,vote", "vote"), ("vote", "vote"), ("a, majority ,b", "a, b"), (" , ", " , ")],
)
def test_a_bad_policy_names_what_is_wrong(text: str, found: str):
    assert _problem(text) == Problem(
        f"bad adjudication policy {text!r} (from --adjudication)",
        expected="a comma-separated ordered subset of ground_truth,majority,most_recent",
        found=found,
        fix="e.g. ground_truth,majority,most_recent (the default) or ground_truth,most_recent",
    )
    assert _problem("majority,majority").found == "majority,majority"
    with pytest.raises(UsageError) as err:
        Policy.parse("vote")
    assert err.value.problems[0].message == "bad adjudication policy 'vote' (from --adjudication)"


def test_most_recent_is_appended_once_where_it_is_missing():
    assert Policy.parse(" majority , ground_truth ").rules == (
        "majority",
        "ground_truth",
        "most_recent",
    )
    assert Policy.parse("most_recent,majority").rules == ("most_recent", "majority")


def test_the_policy_from_the_environment_is_parsed_once_per_value(monkeypatch):
    monkeypatch.setattr(adjudicate_module, "_from_env", {})  # whatever earlier tests cached
    monkeypatch.delenv("CLAIMWIRE_ADJUDICATION", raising=False)
    assert Policy.from_env() == Policy() == Policy(("ground_truth", "majority", "most_recent"))
    monkeypatch.setenv("CLAIMWIRE_ADJUDICATION", " majority ")
    first = Policy.from_env()
    assert first.rules == ("majority", "most_recent") and Policy.from_env() is first
    monkeypatch.setenv("CLAIMWIRE_ADJUDICATION", "vote")
    for _ in range(2):  # a bad value raises every time
        with pytest.raises(UsageError) as err:
            Policy.from_env()
        assert err.value.problems[0].message == (
            "bad adjudication policy 'vote' (from CLAIMWIRE_ADJUDICATION)"
        )


@pytest.mark.parametrize(
    "annotation,key",
    [
        ({"id": 3, "updated_at": "u", "created_at": "c"}, ("u", 3)),
        ({"id": "4", "updated_at": None, "created_at": "c"}, ("c", 4)),
        ({"id": 5, "created_at": "c"}, ("c", 5)),
        ({"id": 6}, ("", 6)),
    ],
)
def test_recency_is_the_update_time_then_the_id(annotation, key):
    assert recency(annotation) == key


def test_voters_are_one_per_annotator_the_latest_without_ground_truth():
    a = Entity("e1", 0, 5, "Maduro", "PER")
    truth = _version("reviewer", 9, [a], truth=True)
    first = _version("x", 1, [a])
    same_time = replace(first, index=7, entities=())  # same recency: the first one read stays
    later = _version("x", 3)
    other = _version("y", 2)
    assert voters([truth, first, same_time, other]) == [first, other]
    assert voters([truth, first, later, other]) == [other, later]


def test_a_single_annotation_is_taken_whole():
    v = _version("x", 1, [Entity("e1", 0, 5, "Maduro", "PER", decided_by="majority")])
    gold = adjudicate([v])
    assert (gold.rule, gold.source) == ("single", v)
    assert [e.decided_by for e in gold.entities] == ["single"]


def test_the_most_recent_of_several_ground_truths_wins():
    a, b = Entity("e1", 0, 5, "Maduro", "PER"), Entity("e2", 10, 16, "Guaido", "PER")
    newer, older = _version("r1", 3, [b], truth=True), _version("r2", 2, [a], truth=True)
    gold = adjudicate([newer, _version("x", 1), older])
    assert (gold.rule, gold.source) == ("ground_truth", newer)
    gold = adjudicate([older, _version("x", 1), newer])
    assert (gold.rule, gold.source, gold.entities) == (
        "ground_truth",
        newer,
        (Entity("e2", 10, 16, "Guaido", "PER", decided_by="ground_truth"),),
    )


def test_one_voter_beside_a_ground_truth_is_single_under_majority():
    voter = _version("x", 1, [Entity("e1", 0, 5, "Maduro", "PER")])
    gold = adjudicate([_version("r", 2, truth=True), voter], Policy.parse("majority"))
    assert (gold.rule, gold.source) == ("single", voter)


def test_rules_apply_in_the_policy_order():
    older, newer = _version("x", 1), _version("y", 2)
    gold = adjudicate([newer, older], Policy.parse("most_recent,majority"))
    assert (gold.rule, gold.source) == ("most_recent", newer)
    # a Policy built by hand without most_recent still ends with it
    gold = adjudicate([newer, older], Policy(("ground_truth",)))
    assert (gold.rule, gold.source) == ("most_recent", newer)


def test_a_region_half_of_four_voters_drew_is_kept_only_with_the_latest():
    claim = Claim("c1", 20, 30, "t" * 10, None, (), "AUTHOR", "NEUTRAL")
    e = Entity("e1", 0, 5, "Maduro", "PER")
    vote = [
        _version("a", 1, [e]),
        _version("b", 2, [e], [claim]),
        _version("c", 3),
        _version("d", 4, [], [claim]),
    ]
    gold = adjudicate(vote)
    assert [(c.id, c.text, c.decided_by) for c in gold.claims] == [
        ("c1", "t" * 10, "tie_most_recent")
    ]
    assert gold.entities == ()  # e1: two of four, without the latest


def test_a_claim_kept_by_the_tie_rule_says_so_even_when_its_values_agree():
    claim = Claim("c1", 20, 30, "t" * 10, None, (), "AUTHOR", "NEUTRAL")
    (kept,) = adjudicate([_version("a", 1), _version("b", 2, [], [claim])]).claims
    assert kept == replace(claim, decided_by="tie_most_recent")


def test_a_portrayal_tie_goes_to_the_latest_voter_and_says_so():
    older = _version("a", 1, [Entity("e1", 0, 5, "Maduro", "PER", "NEGATIVE")])
    newer = _version("b", 2, [Entity("e7", 0, 5, "Maduro", "PER", "POSITIVE")])
    assert adjudicate([older, newer]).entities == (
        Entity("e7", 0, 5, "Maduro", "PER", "POSITIVE", "tie_most_recent"),
    )
    same = _version("c", 3, [Entity("e9", 0, 5, "Maduro", "PER", "POSITIVE")])
    assert adjudicate([older, newer, same]).entities == (
        Entity("e9", 0, 5, "Maduro", "PER", "POSITIVE", "majority"),
    )


def test_ids_lent_by_different_voters_are_made_unique_in_order():
    a, b, c = (0, 5), (10, 15), (20, 25)

    def ent(rid: str, span: tuple[int, int]) -> Entity:
        return Entity(rid, *span, "x" * 5, "PER")

    vote = [
        _version("v1", 1, [ent("a", a), ent("b", b), ent("c", c)]),
        _version("v2", 2, [ent("a2", a), ent("b2", b), ent("c2", c)]),
        _version("v3", 3, [ent("e1", a)]),
        _version("v4", 4, [ent("e1", b)]),
        _version("v5", 5, [ent("e1", c)]),
    ]
    assert [e.id for e in adjudicate(vote).entities] == ["e1", "e1-2", "e1-3"]


def test_review_is_asked_for_ties_or_agreement_below_the_threshold(doc):
    calm = replace(
        doc,
        entities=tuple(decided(e, "majority") for e in doc.entities),
        claims=tuple(decided(c, "majority") for c in doc.claims),
    )

    def at(agreement: float | None, d=calm):
        return replace(d, annotation=replace(d.annotation, agreement=agreement))

    assert [needs_review(at(x), 0.8) for x in (None, 0.9, 0.8, 0.79)] == [
        False,
        False,
        False,
        True,
    ]
    assert needs_review(at(0.9, doc), 0.8)  # doc has tied regions
    settled = replace(doc, annotation=replace(doc.annotation, adjudication="ground_truth"))
    assert not needs_review(settled, 0.8)
