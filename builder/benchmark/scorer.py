"""The official scorer: one predictions file against one config and split of a release.

Metrics, fixed so that numbers from different papers can be compared:

- ``entities``: strict span precision/recall/F1 per label, micro and macro. Spans are read from
  the IOB2 tags as CoNLL's ``conlleval`` (and ``seqeval``'s default mode) reads them: an ``I-``
  tag after ``O`` or after another type starts a new span. A predicted span counts only if its
  sentence, first token, last token and type all match a gold span. Macro averages over the labels
  that occur in the gold or the predicted spans (as ``seqeval`` does).
- ``claims``: (1) claim-sentence detection P/R/F1 over the sentence rows (positive = ``is_claim``);
  (2) claim span overlap P/R/F1 at the character level: the characters covered by predicted claim
  spans against those covered by gold claim spans, per document, summed over documents;
  (3) claimer P/R/F1, split into REPORTED claims (a named claimer) and AUTHOR claims (the outlet's
  own voice, claimer ``null``). Predicted claims are matched one-to-one to gold claims of the same
  document that they overlap, largest overlap first. A REPORTED gold claim is found when its match
  names the same claimer (case, spacing and non-breaking spaces ignored); an AUTHOR gold claim when
  its match has claimer ``null``. Precision divides by the predicted claims with (resp. without) a
  claimer, recall by the gold claims of that attribution.
- ``stance``: accuracy, macro-F1 over FAVOR/AGAINST/NEUTRAL, and F_avg = (F_FAVOR + F_AGAINST) / 2
  as in SemEval-2016 Task 6.

Any undefined ratio (nothing predicted, nothing gold) is 0, as ``zero_division=0`` in scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ..contracts.labels import NER_TAGS, STANCES
from ..contracts.schemas import iter_problems
from ..errors import InvalidDataError, Problem, UsageError, Where
from ..release import reader
from .tally import claim_counts, entity_counts
from .tally import iob2_spans as iob2_spans

TASKS = ("entities", "claims", "stance")
SCHEMA = "predictions"
SCHEMA_FILE = "schema/predictions.schema.json"


# ---------------------------------------------------------------------------------------------
# reading gold rows and predictions


def default_release() -> Path:
    from ..version import DATASET_VERSION

    return Path("dist") / f"claimwire-{DATASET_VERSION}"


def check_release(release: Path) -> None:
    if not (release / "checksums.tsv").is_file():
        raise UsageError(
            Problem(
                "not a release folder (no checksums.tsv)",
                file=str(release),
                expected="a folder written by `claimwire build`, e.g. dist/claimwire-0.1.0",
                fix="build it with `make build`, or pass --release DIR",
            )
        )


def resolve_split(release: Path, config: str, split: str | None) -> str:
    """``split`` if the release has it; without one, ``test`` if present. Otherwise a usage error
    naming the splits that exist (small releases leave empty splits out)."""
    check_release(release)
    present = reader.splits(release, config)
    wanted = split or "test"
    if wanted in present:
        return wanted
    how = f"--split {wanted}" if split else "the default split (test)"
    raise UsageError(
        Problem(
            f"{how} is not in this release's {config} config",
            file=str(release),
            expected="one of the splits present: " + (", ".join(present) or "none"),
            fix=f"pass --split {present[0]}" if present else "rebuild the release",
        )
    )


def load_predictions(path: Path) -> dict[str, Any]:
    """Read and schema-check a predictions file (``schema/predictions.schema.json``)."""
    try:
        data: dict[str, Any] = orjson.loads(path.read_bytes())  # an object: the schema checks it
    except FileNotFoundError:
        raise UsageError(
            Problem(
                "predictions file not found",
                file=str(path),
                fix="pass the file written by your system or by `claimwire baseline`",
            )
        ) from None
    except orjson.JSONDecodeError as exc:
        raise InvalidDataError(
            Problem(
                f"predictions file is not valid JSON: {exc.msg}",
                file=str(path),
                line=exc.lineno,
                column=exc.colno,
                fix="fix the JSON syntax at that position",
            )
        ) from None
    except OSError as exc:
        raise UsageError(
            Problem(
                f"cannot read the predictions file: {exc.strerror}",
                file=str(path),
                fix="pass a predictions JSON file",
            )
        ) from None
    problems = [p.located(file=str(path)) for p in iter_problems(SCHEMA, data)]
    if problems:
        fix = f"write predictions as described in {SCHEMA_FILE}"
        raise InvalidDataError([p if p.fix else _with_fix(p, fix) for p in problems])
    return data


def _with_fix(p: Problem, fix: str) -> Problem:
    from dataclasses import replace

    return replace(p, fix=fix)


def align(
    config: str,
    gold: Sequence[Mapping[str, Any]],
    predictions: Sequence[Mapping[str, Any]],
    file: str = "<predictions>",
) -> dict[str, Mapping[str, Any]]:
    """Predictions by row id, refusing duplicates, unknown ids, missing rows and (entities) tag
    lists whose length is not the row's token count."""
    gold_by_id = {r["id"]: r for r in gold}
    out: dict[str, Mapping[str, Any]] = {}
    problems: list[Problem] = []
    for k, pred in enumerate(predictions):
        rid = pred["id"]
        if rid in out:
            where: Where = {"file": file, "pointer": f"/predictions/{k}"}
            problems.append(
                Problem(
                    f"row {rid!r} is predicted twice", **where, fix="keep one prediction per row"
                )
            )
            continue
        row = gold_by_id.get(rid)
        if row is None:
            problems.append(
                Problem(
                    f"row {rid!r} is not in this split of the {config} config",
                    pointer=f"/predictions/{k}/id",
                    file=file,
                    expected="an `id` of the gold rows",
                    found=repr(rid),
                    fix="predict the split you evaluate on (--split)",
                )
            )
            continue
        if config == "entities":
            problems.extend(_check_tags(row, pred, k, file))
        elif config == "claims":
            for j, c in enumerate(pred.get("claims", [])):
                if c["start"] >= c["end"]:
                    problems.append(
                        Problem(
                            "empty or reversed claim span",
                            file=file,
                            pointer=f"/predictions/{k}/claims/{j}",
                            expected="start < end (half-open code-point offsets over the article)",
                            found=f"start={c['start']}, end={c['end']}",
                        )
                    )
        out[rid] = pred
    missing = [rid for rid in gold_by_id if rid not in out]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
        problems.append(
            Problem(
                f"{len(missing)} of {len(gold_by_id)} rows have no prediction",
                file=file,
                pointer="/predictions",
                found=shown,
                expected="exactly one prediction per row of the split",
                fix="predict every row; an empty prediction is O tags, "
                "is_claim false or a stance label",
            )
        )
    if problems:
        raise InvalidDataError(problems)
    return out


def _check_tags(
    row: Mapping[str, Any], pred: Mapping[str, Any], k: int, file: str
) -> list[Problem]:
    tags = pred["ner_tags"]
    if len(tags) == len(row["tokens"]) and _known_tags(tags):
        return []
    problems = []
    if len(tags) != len(row["tokens"]):
        problems.append(
            Problem(
                f"row {row['id']!r} has {len(row['tokens'])} tokens but {len(tags)} tags",
                file=file,
                pointer=f"/predictions/{k}/ner_tags",
                expected=f"{len(row['tokens'])} tags, one per token of the row",
                found=f"{len(tags)} tags",
                fix="tag the release's tokens (the `tokens` column), do not re-tokenise",
            )
        )
    for j, tag in enumerate(tags):
        if tag not in NER_TAGS:
            problems.append(
                Problem(
                    "unknown tag",
                    file=file,
                    pointer=f"/predictions/{k}/ner_tags/{j}",
                    expected="one of " + ", ".join(NER_TAGS),
                    found=repr(tag),
                )
            )
    return problems


_TAG_SET = frozenset(NER_TAGS)


def _known_tags(tags: Iterable[Any]) -> bool:
    """Every tag is one of ``NER_TAGS`` (a value that cannot be hashed is not)."""
    try:
        return _TAG_SET.issuperset(tags)
    except TypeError:
        return False


# ---------------------------------------------------------------------------------------------
# metrics


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    """Precision, recall and F1 from counts; 0 where a ratio is undefined."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "predicted": n_pred, "gold": n_gold}


def score_entities(
    gold: Sequence[Mapping[str, Any]], preds: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    micro, counts = entity_counts(gold, preds)
    labels = list(counts)
    per_label = {label: prf(*c) for label, c in counts.items()}
    macro = {
        m: (sum(v[m] for v in per_label.values()) / len(labels) if labels else 0.0)
        for m in ("precision", "recall", "f1")
    }
    return {
        "micro": prf(*micro),
        "macro": macro,
        "macro_labels": labels,
        "per_label": per_label,
        "sentences": len(gold),
    }


def score_claims(
    gold: Sequence[Mapping[str, Any]], preds: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    counts = claim_counts(gold, preds)
    return {
        "detection": prf(*counts["detection"]),
        "span_overlap": prf(*counts["span_overlap"]),
        "claimer": {a: prf(*counts[a]) for a in ("REPORTED", "AUTHOR", "all")},
        "sentences": len(gold),
    }


def score_stance(
    gold: Sequence[Mapping[str, Any]], preds: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    pairs = [(r["label"], preds[r["id"]]["label"]) for r in gold]
    per_label = {
        lab: prf(
            sum(t == g == lab for t, g in pairs),
            sum(g == lab for _, g in pairs),
            sum(t == lab for t, _ in pairs),
        )
        for lab in STANCES
    }
    return {
        "accuracy": sum(t == g for t, g in pairs) / len(pairs) if pairs else 0.0,
        "macro_f1": sum(v["f1"] for v in per_label.values()) / len(STANCES),
        "f_avg": (per_label["FAVOR"]["f1"] + per_label["AGAINST"]["f1"]) / 2,
        "per_label": per_label,
        "pairs": len(pairs),
    }


SCORERS = {"entities": score_entities, "claims": score_claims, "stance": score_stance}


def score(
    config: str,
    gold: Sequence[Mapping[str, Any]],
    predictions: Sequence[Mapping[str, Any]],
    file: str = "<predictions>",
) -> dict[str, Any]:
    """Metrics of ``predictions`` (items of a predictions file) against gold rows of ``config``
    (rows as in the release, label names not ints). Used by the CLI and by the card."""
    return SCORERS[config](gold, align(config, gold, predictions, file))


def evaluate(
    config: str, predictions: Path, release: Path | None = None, split: str | None = None
) -> dict[str, Any]:
    """Score a predictions file against a release: the importable form of ``claimwire
    evaluate``. Returns the metrics document that the command prints and writes."""
    if config not in TASKS:
        raise UsageError(Problem(f"unknown config {config!r}", expected=" or ".join(TASKS)))
    release = release or default_release()
    data = load_predictions(predictions)
    if data["config"] != config:
        raise UsageError(
            Problem(
                f"the predictions are for the {data['config']} config, not {config}",
                file=str(predictions),
                pointer="/config",
                fix=f"pass --config {data['config']}",
            )
        )
    split = resolve_split(release, config, split)
    if data.get("split") not in (None, split):
        raise UsageError(
            Problem(
                f"the predictions are for the {data['split']} split, not {split}",
                file=str(predictions),
                pointer="/split",
                fix=f"pass --split {data['split']}",
            )
        )
    gold = reader.rows(release, config, split)
    metrics = score(config, gold, data["predictions"], file=str(predictions))
    return {
        "config": config,
        "split": split,
        "release": release.name,
        "system": data.get("system"),
        "metrics": metrics,
    }


def headline(config: str, metrics: Mapping[str, Any]) -> dict[str, float]:
    """The few numbers reported per config in tables (the card, the CLI summary)."""
    if config == "entities":
        return {"micro F1": metrics["micro"]["f1"], "macro F1": metrics["macro"]["f1"]}
    if config == "claims":
        return {
            "sentence F1": metrics["detection"]["f1"],
            "span overlap F1": metrics["span_overlap"]["f1"],
            "claimer F1 (reported)": metrics["claimer"]["REPORTED"]["f1"],
            "claimer F1 (author)": metrics["claimer"]["AUTHOR"]["f1"],
        }
    return {
        "macro F1": metrics["macro_f1"],
        "F_avg": metrics["f_avg"],
        "accuracy": metrics["accuracy"],
    }


def summary_lines(result: Mapping[str, Any]) -> list[str]:
    config = result["config"]
    lines = [
        f"{config} / {result['split']} ({result['release']})"
        + (f", system {result['system']}" if result.get("system") else "")
    ]
    for name, value in headline(config, result["metrics"]).items():
        lines.append(f"  {name:<24} {100 * value:6.2f}")
    m = result["metrics"]
    per = m.get("per_label", {})
    if config == "claims":
        per = {
            "detection": m["detection"],
            "span overlap (chars)": m["span_overlap"],
            **{f"claimer {k}": v for k, v in m["claimer"].items()},
        }
    for label, v in per.items():
        lines.append(
            f"  {label:<24} P {100 * v['precision']:6.2f}  R {100 * v['recall']:6.2f}"
            f"  F1 {100 * v['f1']:6.2f}  (gold {v['gold']}, predicted {v['predicted']})"
        )
    return lines


def write_metrics(result: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
