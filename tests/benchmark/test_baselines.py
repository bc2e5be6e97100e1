"""Reference baselines: their rules on hand examples, their files against the predictions schema,
and their exact scores on the shipped release (the figures the card reports)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.helpers import seed_inputs

from builder import build
from builder.benchmark.baselines import capitalised_spans, cue_claimer, entity_label, predict, run
from builder.cli.main import main
from builder.contracts.schemas import reference_validator
from builder.errors import UsageError


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    return build(seed_inputs()[0], [seed_inputs()[1]], out, "0.1.0").path


def test_capitalised_spans() -> None:
    tokens = [
        "The",
        "Organization",
        "of",
        "American",
        "States",
        "met",
        "Juan",
        "Guaido",
        "in",
        "Caracas",
        "on",
        "Monday",
        ".",
    ]
    assert [tokens[s:e] for s, e in capitalised_spans(tokens)] == [
        ["Organization", "of", "American", "States"],
        ["Juan", "Guaido"],
        ["Caracas"],
    ]


@pytest.mark.parametrize(
    ("words", "label"),
    [
        (["Venezuelan", "Defense", "Ministry"], "ORG"),
        (["OAS"], "ORG"),
        (["US"], "GPE"),
        (["Venezuelans"], "NORP"),
        (["Juan", "Guaido"], "PER"),
        (["Caracas"], "GPE"),
    ],
)
def test_entity_label_from_word_shape(words: list[str], label: str) -> None:
    assert entity_label(words) == label


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "On Monday, US Treasury Secretary Stephen Mnuchin said relief was possible.",
            (True, "Stephen Mnuchin"),
        ),
        (
            "The Colombian Defense Ministry, however, told Sputnik that no bases were offered.",
            (True, "Colombian Defense Ministry"),
        ),
        ('"No", said Tarre.', (True, "Tarre")),
        ("Prices rose by 3 percent.", (False, None)),
        ("he said it was over.", (True, None)),
    ],
)
def test_reporting_cue_rule(sentence: str, expected: tuple[bool, str | None]) -> None:
    assert cue_claimer(sentence) == expected


def test_majority_reads_train_counts() -> None:
    train = [
        {"id": str(i), "label": lab}
        for i, lab in enumerate(["NEUTRAL", "FAVOR", "NEUTRAL", "AGAINST"])
    ]
    rows = [{"id": "x", "label": "FAVOR"}, {"id": "y", "label": "AGAINST"}]
    assert predict("majority", "stance", rows, train) == [
        {"id": "x", "label": "NEUTRAL"},
        {"id": "y", "label": "NEUTRAL"},
    ]


def test_unknown_baseline_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown baseline 'oracle'"):
        predict("oracle", "stance", [], [])


def _headline(results: list[dict]) -> dict[str, dict]:
    return {r["config"]: r["metrics"] for r in results}


def test_majority_scores_on_the_shipped_release(release: Path, tmp_path: Path) -> None:
    m = _headline(run("majority", release, "train", out=tmp_path))
    assert m["entities"]["micro"]["f1"] == 0.0 and m["entities"]["micro"]["gold"] == 67
    # 21 of the 23 sentences hold a claim, so the majority says every sentence is one
    det = m["claims"]["detection"]
    assert (det["tp"], det["predicted"], det["gold"]) == (21, 23, 21)
    # 14 of the 25 stance pairs are AGAINST
    assert m["stance"]["accuracy"] == pytest.approx(14 / 25)
    f_against = 2 * (14 / 25) / (1 + 14 / 25)
    assert m["stance"]["macro_f1"] == pytest.approx(f_against / 3)
    assert m["stance"]["f_avg"] == pytest.approx(f_against / 2)


def test_rules_scores_on_the_shipped_release(release: Path, tmp_path: Path) -> None:
    m = _headline(run("rules", release, "train", out=tmp_path))
    assert round(100 * m["entities"]["micro"]["f1"], 1) == 52.8
    assert round(100 * m["claims"]["detection"]["f1"], 1) == 75.7
    assert round(100 * m["claims"]["claimer"]["REPORTED"]["f1"], 1) == 57.1
    assert round(100 * m["stance"]["macro_f1"], 1) == 47.0


def test_cli_writes_schema_valid_prediction_files(
    release: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["baseline", "rules", "--split", "train", "--release", str(release), "--out", str(tmp_path)]
    )
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        f"rules-{c}-train.{k}json"
        for c in ("claims", "entities", "stance")
        for k in ("", "metrics.")
    ]
    validator = reference_validator("predictions")
    for config in ("claims", "entities", "stance"):
        data = json.loads((tmp_path / f"rules-{config}-train.json").read_text())
        assert list(validator.iter_errors(data)) == []
        assert data["system"] == "baseline:rules" and data["split"] == "train"
    # the files score the same through `claimwire evaluate`
    assert (
        main(
            [
                "evaluate",
                "--config",
                "stance",
                "--split",
                "train",
                "--predictions",
                str(tmp_path / "rules-stance-train.json"),
                "--release",
                str(release),
                "--output",
                str(tmp_path / "again.json"),
            ]
        )
        == 0
    )
    again = json.loads((tmp_path / "again.json").read_text())["metrics"]
    first = json.loads((tmp_path / "rules-stance-train.metrics.json").read_text())["metrics"]
    assert again == first
    assert "wrote " + str(tmp_path / "rules-entities-train.json") in capsys.readouterr().out


def test_cli_without_the_split_names_the_splits(
    release: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["baseline", "majority", "--release", str(release), "--out", str(tmp_path)])
    assert code == 2
    assert "pass --split train" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
