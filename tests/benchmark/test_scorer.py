"""The official scorer: hand-worked examples, agreement with seqeval and scikit-learn on the same
inputs, precise errors for bad prediction files, and the CLI on the shipped release."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from seqeval.metrics import classification_report
from seqeval.metrics import f1_score as seq_f1
from seqeval.metrics import precision_score as seq_precision
from seqeval.metrics import recall_score as seq_recall
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from support.helpers import seed_inputs

from builder import build
from builder.benchmark.scorer import (
    evaluate,
    iob2_spans,
    load_predictions,
    score,
    score_claims,
    score_entities,
    score_stance,
)
from builder.cli.main import main
from builder.contracts.labels import STANCES
from builder.errors import InvalidDataError, UsageError
from builder.release import reader


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    return build(seed_inputs()[0], [seed_inputs()[1]], out, "0.1.0").path


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- entities ---------------------------------------------------------------------------------


def test_iob2_spans_read_like_conlleval() -> None:
    tags = ["B-PER", "I-PER", "O", "I-ORG", "I-ORG", "B-GPE", "I-PER", "B-GPE", "B-GPE"]
    assert iob2_spans(tags) == [
        ("PER", 0, 2),
        ("ORG", 3, 5),
        ("GPE", 5, 6),
        ("PER", 6, 7),
        ("GPE", 7, 8),
        ("GPE", 8, 9),
    ]
    assert iob2_spans(["O", "O"]) == []
    assert iob2_spans([]) == []


def test_entities_hand_worked() -> None:
    gold = [
        {"id": "s0", "ner_tags": ["B-PER", "I-PER", "O", "B-GPE"]},
        {"id": "s1", "ner_tags": ["B-ORG", "O", "B-PER"]},
    ]
    preds = {
        "s0": {"ner_tags": ["B-PER", "O", "O", "B-GPE"]},  # PER boundary wrong, GPE right
        "s1": {"ner_tags": ["B-ORG", "O", "B-PER"]},
    }  # both right
    m = score_entities(gold, preds)
    # gold 4 spans, predicted 4, correct 3 (GPE, ORG, PER in s1)
    assert (m["micro"]["tp"], m["micro"]["predicted"], m["micro"]["gold"]) == (3, 4, 4)
    assert m["micro"]["f1"] == pytest.approx(0.75)
    assert m["per_label"]["PER"]["f1"] == pytest.approx(0.5)
    assert m["per_label"]["GPE"]["f1"] == 1.0 and m["per_label"]["ORG"]["f1"] == 1.0
    assert m["macro_labels"] == ["GPE", "ORG", "PER"]
    assert m["macro"]["f1"] == pytest.approx((1 + 1 + 0.5) / 3)


def _random_tags(rng: random.Random, n: int) -> list[str]:
    choices = ["O", "O", "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-GPE", "I-GPE", "I-LOC"]
    return [rng.choice(choices) for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_entities_agree_with_seqeval(seed: int) -> None:
    rng = random.Random(seed)
    gold_tags = [_random_tags(rng, rng.randint(1, 15)) for _ in range(40)]
    pred_tags = [_random_tags(rng, len(t)) if rng.random() < 0.6 else list(t) for t in gold_tags]
    gold = [{"id": f"s{i}", "ner_tags": t} for i, t in enumerate(gold_tags)]
    preds = {f"s{i}": {"ner_tags": t} for i, t in enumerate(pred_tags)}
    m = score_entities(gold, preds)
    assert m["micro"]["precision"] == pytest.approx(seq_precision(gold_tags, pred_tags))
    assert m["micro"]["recall"] == pytest.approx(seq_recall(gold_tags, pred_tags))
    assert m["micro"]["f1"] == pytest.approx(seq_f1(gold_tags, pred_tags))
    assert m["macro"]["f1"] == pytest.approx(seq_f1(gold_tags, pred_tags, average="macro"))
    report = classification_report(gold_tags, pred_tags, output_dict=True, zero_division=0)
    for label, v in m["per_label"].items():
        assert v["f1"] == pytest.approx(report[label]["f1-score"])
        assert v["gold"] == report[label]["support"]


# --- stance -----------------------------------------------------------------------------------


def test_stance_hand_worked() -> None:
    truth = ["FAVOR", "AGAINST", "AGAINST", "NEUTRAL"]
    guess = ["FAVOR", "AGAINST", "NEUTRAL", "NEUTRAL"]
    gold = [{"id": str(i), "label": t} for i, t in enumerate(truth)]
    m = score_stance(gold, {str(i): {"label": g} for i, g in enumerate(guess)})
    # FAVOR 1/1; AGAINST P 1/1 R 1/2 -> 2/3; NEUTRAL P 1/2 R 1/1 -> 2/3
    assert m["accuracy"] == 0.75
    assert m["per_label"]["AGAINST"]["f1"] == pytest.approx(2 / 3)
    assert m["f_avg"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)


@pytest.mark.parametrize("seed", range(5))
def test_stance_agrees_with_sklearn(seed: int) -> None:
    rng = random.Random(seed)
    truth = [rng.choice(STANCES) for _ in range(60)]
    guess = [t if rng.random() < 0.5 else rng.choice(["AGAINST", "NEUTRAL"]) for t in truth]
    gold = [{"id": str(i), "label": t} for i, t in enumerate(truth)]
    m = score_stance(gold, {str(i): {"label": g} for i, g in enumerate(guess)})
    labels = list(STANCES)
    assert m["accuracy"] == pytest.approx(accuracy_score(truth, guess))
    assert m["macro_f1"] == pytest.approx(
        f1_score(truth, guess, labels=labels, average="macro", zero_division=0)
    )
    assert m["f_avg"] == pytest.approx(
        f1_score(truth, guess, labels=["FAVOR", "AGAINST"], average="macro", zero_division=0)
    )


# --- claims -----------------------------------------------------------------------------------


def _claim_row(rid: str, start: int, text: str, claims: list[dict]) -> dict:
    return {
        "id": rid,
        "document_id": "d",
        "sentence": text,
        "sentence_start": start,
        "is_claim": bool(claims),
        "claims": claims,
    }


def test_claims_hand_worked() -> None:
    gold = [
        _claim_row(
            "s0",
            0,
            "x" * 20,
            [
                {
                    "claim_id": "c1",
                    "start": 0,
                    "end": 10,
                    "attribution": "REPORTED",
                    "claimer": "Juan\u00a0Guaido",
                }
            ],
        ),
        _claim_row(
            "s1",
            21,
            "y" * 20,
            [{"claim_id": "c2", "start": 21, "end": 31, "attribution": "AUTHOR", "claimer": None}],
        ),
        _claim_row("s2", 42, "z" * 20, []),
    ]
    preds = {
        "s0": {"is_claim": True, "claims": [{"start": 5, "end": 15, "claimer": "juan guaido"}]},
        "s1": {"is_claim": False, "claims": []},
        "s2": {"is_claim": True, "claims": [{"start": 42, "end": 52, "claimer": "Someone"}]},
    }
    m = score_claims(gold, preds)
    # detection: gold {s0, s1}, predicted {s0, s2}
    assert (m["detection"]["tp"], m["detection"]["predicted"], m["detection"]["gold"]) == (1, 2, 2)
    # characters: gold 0-10 and 21-31 (20), predicted 5-15 and 42-52 (20), shared 5-10 (5)
    assert (m["span_overlap"]["tp"], m["span_overlap"]["predicted"], m["span_overlap"]["gold"]) == (
        5,
        20,
        20,
    )
    assert m["span_overlap"]["f1"] == pytest.approx(0.25)
    # claimer: c1 matched by 5-15 with the same name (case and NBSP ignored); the 42-52 claim
    # names a claimer but matches nothing; the AUTHOR claim c2 is missed.
    reported = m["claimer"]["REPORTED"]
    assert (reported["tp"], reported["predicted"], reported["gold"]) == (1, 2, 1)
    author = m["claimer"]["AUTHOR"]
    assert (author["tp"], author["predicted"], author["gold"]) == (0, 0, 1)
    assert m["claimer"]["all"]["f1"] == pytest.approx(2 * 0.5 * 0.5 / 1.0)


def test_claim_detection_agrees_with_sklearn() -> None:
    rng = random.Random(7)
    truth = [rng.random() < 0.4 for _ in range(80)]
    guess = [rng.random() < 0.5 for _ in range(80)]
    gold = [_claim_row(f"s{i}", 0, "t", []) | {"is_claim": t} for i, t in enumerate(truth)]
    m = score_claims(gold, {f"s{i}": {"is_claim": g} for i, g in enumerate(guess)})
    p, r, f, _ = precision_recall_fscore_support(truth, guess, average="binary", zero_division=0)
    assert (
        m["detection"]["precision"],
        m["detection"]["recall"],
        m["detection"]["f1"],
    ) == pytest.approx((p, r, f))


def test_author_claim_found_when_no_claimer_predicted() -> None:
    gold = [
        _claim_row(
            "s0",
            0,
            "x" * 10,
            [{"claim_id": "c1", "start": 0, "end": 10, "attribution": "AUTHOR", "claimer": None}],
        )
    ]
    m = score_claims(
        gold, {"s0": {"is_claim": True, "claims": [{"start": 2, "end": 8, "claimer": None}]}}
    )
    assert m["claimer"]["AUTHOR"]["f1"] == 1.0
    assert m["claimer"]["REPORTED"]["predicted"] == 0


# --- on the shipped release -------------------------------------------------------------------


@pytest.mark.parametrize("config", ["entities", "claims", "stance"])
def test_gold_as_predictions_scores_perfectly(release: Path, tmp_path: Path, config: str) -> None:
    gold = reader.rows(release, config, "train")
    if config == "entities":
        items = [{"id": r["id"], "ner_tags": r["ner_tags"]} for r in gold]
    elif config == "claims":
        items = [
            {
                "id": r["id"],
                "is_claim": r["is_claim"],
                "claims": [
                    {"start": c["start"], "end": c["end"], "claimer": c["claimer"]}
                    for c in r["claims"]
                ],
            }
            for r in gold
        ]
    else:
        items = [{"id": r["id"], "label": r["label"]} for r in gold]
    path = _write(tmp_path / "p.json", {"config": config, "predictions": items})
    result = evaluate(config, path, release, "train")
    m = result["metrics"]
    assert result["split"] == "train" and result["release"] == "claimwire-0.1.0"
    if config == "entities":
        assert m["micro"]["f1"] == 1.0 and m["micro"]["gold"] == 67
    elif config == "claims":
        assert m["detection"]["f1"] == m["span_overlap"]["f1"] == 1.0
        assert m["claimer"]["REPORTED"]["gold"] == 19 and m["claimer"]["AUTHOR"]["gold"] == 3
        assert m["claimer"]["all"]["f1"] == 1.0
    else:
        assert m["accuracy"] == m["macro_f1"] == 1.0 and m["pairs"] == 25


def test_cli_evaluate_writes_metrics(
    release: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = reader.rows(release, "stance", "train")
    path = _write(
        tmp_path / "p.json",
        {
            "config": "stance",
            "split": "train",
            "predictions": [{"id": r["id"], "label": "AGAINST"} for r in gold],
        },
    )
    code = main(
        [
            "evaluate",
            "--config",
            "stance",
            "--split",
            "train",
            "--predictions",
            str(path),
            "--release",
            str(release),
        ]
    )
    assert code == 0
    written = json.loads((tmp_path / "p.metrics.json").read_text())
    assert written["metrics"]["accuracy"] == pytest.approx(14 / 25)
    out = capsys.readouterr().out
    assert "accuracy                  56.00" in out


def test_missing_default_split_names_the_available_ones(release: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "p.json", {"config": "stance", "predictions": []})
    with pytest.raises(UsageError) as exc:
        evaluate("stance", path, release)
    text = str(exc.value)
    assert "the default split (test) is not in this release's stance config" in text
    assert "one of the splits present: train" in text and "pass --split train" in text
    assert (
        main(
            [
                "evaluate",
                "--config",
                "stance",
                "--predictions",
                str(path),
                "--release",
                str(release),
            ]
        )
        == 2
    )


def test_incomplete_predictions_are_refused(release: Path, tmp_path: Path) -> None:
    gold = reader.rows(release, "entities", "train")
    items = [{"id": r["id"], "ner_tags": ["O"] * len(r["tokens"])} for r in gold]
    items[1]["ner_tags"] = items[1]["ner_tags"][:-1]  # one tag short
    items[2]["ner_tags"][0] = "B-ANIMAL"  # unknown tag
    items.append(dict(items[0]))  # duplicate
    items.append({"id": "nope/s0", "ner_tags": []})  # unknown row
    del items[3]  # missing row
    path = _write(tmp_path / "p.json", {"config": "entities", "predictions": items})
    with pytest.raises(InvalidDataError) as exc:
        evaluate("entities", path, release, "train")
    problems = exc.value.problems
    short = gold[1]
    assert [(p.pointer, p.message) for p in problems] == [
        (
            "/predictions/1/ner_tags",
            f"row {short['id']!r} has {len(short['tokens'])} tokens but "
            f"{len(short['tokens']) - 1} tags",
        ),
        ("/predictions/2/ner_tags/0", "unknown tag"),
        ("/predictions/22", f"row {gold[0]['id']!r} is predicted twice"),
        ("/predictions/23/id", "row 'nope/s0' is not in this split of the entities config"),
        ("/predictions", "1 of 23 rows have no prediction"),
    ]
    assert problems[-1].found == repr(gold[3]["id"])
    assert (
        main(
            [
                "evaluate",
                "--config",
                "entities",
                "--split",
                "train",
                "--predictions",
                str(path),
                "--release",
                str(release),
            ]
        )
        == 1
    )


def test_schema_violations_name_the_pointer(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "p.json",
        {"config": "stance", "predictions": [{"id": "a", "label": "POSITIVE"}, {"id": "b"}]},
    )
    with pytest.raises(InvalidDataError) as exc:
        load_predictions(path)
    found = {(p.pointer, p.file) for p in exc.value.problems}
    assert found == {("/predictions/0/label", str(path)), ("/predictions/1", str(path))}
    enum = next(p for p in exc.value.problems if p.pointer == "/predictions/0/label")
    assert "one of FAVOR, AGAINST, NEUTRAL" in (enum.expected or "")


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"config": "stance",\n  "predictions": [,]}')
    with pytest.raises(InvalidDataError) as exc:
        load_predictions(path)
    p = exc.value.problems[0]
    assert (p.file, p.line, p.column) == (str(path), 2, 19)


def test_config_mismatch_is_a_usage_error(release: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "p.json", {"config": "stance", "predictions": []})
    with pytest.raises(UsageError, match="the predictions are for the stance config, not claims"):
        evaluate("claims", path, release, "train")


def test_score_is_the_in_process_entry_point() -> None:
    gold = [{"id": "x", "label": "FAVOR"}]
    assert score("stance", gold, [{"id": "x", "label": "FAVOR"}])["accuracy"] == 1.0


def test_unreadable_predictions_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the predictions file: Is a directory"):
        load_predictions(tmp_path)
    with pytest.raises(UsageError, match="predictions file not found"):
        load_predictions(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "instance",
    [
        {"config": "entities", "predictions": [{"id": "a", "ner_tags": ["O", "B-PER"]}]},
        {"config": "entities", "predictions": [{"id": "a", "ner_tags": ["X-PER"]}]},
        {
            "config": "claims",
            "predictions": [
                {"id": "a", "is_claim": "yes", "claims": [{"start": -1, "end": 3, "claimer": None}]}
            ],
        },
        {
            "config": "claims",
            "predictions": [{"id": "a", "is_claim": True, "claims": [{"start": 0, "end": 3}]}],
        },
        {"config": "stance", "predictions": [{"id": "a", "label": "FAVOR", "score": 0.3}]},
        {"config": "sentiment", "predictions": []},
        [],
    ],
)
def test_fast_and_reference_validators_agree(instance: object) -> None:
    from builder.contracts.schemas import iter_problems, pointer, reference_validator

    fast = sorted({p.pointer for p in iter_problems("predictions", instance)})
    ref = sorted(
        {pointer(e.absolute_path) for e in reference_validator("predictions").iter_errors(instance)}
    )
    assert fast == ref
    valid = instance == {
        "config": "entities",
        "predictions": [{"id": "a", "ner_tags": ["O", "B-PER"]}],
    }
    assert (fast == []) == valid
