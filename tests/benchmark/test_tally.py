"""The scorer's per-row counts (compiled when the core is): random spans and tags against the
plain definitions they replace, sets of covered characters and sets of labelled spans."""

from __future__ import annotations

import random

from builder.benchmark.tally import claim_counts, cue_claimer, entity_counts, iob2_spans


def test_claim_characters_are_counted_as_sets_of_characters() -> None:
    rng = random.Random(7)
    for _ in range(300):
        gold, preds, truth = [], {}, {"gold": set(), "pred": set()}  # (doc, char)
        for k in range(rng.randint(1, 6)):
            doc = f"d{rng.randint(0, 2)}"
            claims = []
            for j in range(rng.randint(0, 3)):
                s, e = rng.randint(0, 40), rng.randint(0, 40)
                claims.append(
                    {
                        "claim_id": f"{k}-{j}",
                        "start": s,
                        "end": e,
                        "attribution": "AUTHOR",
                        "claimer": None,
                    }
                )
                truth["gold"] |= {(doc, i) for i in range(s, e)}
            spans = []
            for _ in range(rng.randint(0, 3)):
                s = rng.randint(0, 39)
                e = rng.randint(s + 1, 40)
                spans.append({"start": s, "end": e, "claimer": None})
                truth["pred"] |= {(doc, i) for i in range(s, e)}
            gold.append(
                {"id": f"r{k}", "document_id": doc, "is_claim": bool(claims), "claims": claims}
            )
            preds[f"r{k}"] = {"id": f"r{k}", "is_claim": bool(spans), "claims": spans}
        overlap, predicted, golden = claim_counts(gold, preds)["span_overlap"]
        assert overlap == len(truth["gold"] & truth["pred"])
        assert (predicted, golden) == (len(truth["pred"]), len(truth["gold"]))


def test_entity_counts_are_sets_of_labelled_spans() -> None:
    rng = random.Random(11)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "I-GPE"]
    for _ in range(300):
        gold = []
        preds = {}
        for k in range(rng.randint(0, 8)):
            n = rng.randint(0, 10)
            gold.append({"id": f"r{k}", "ner_tags": [rng.choice(tags) for _ in range(n)]})
            preds[f"r{k}"] = {"ner_tags": [rng.choice(tags) for _ in range(n)]}
        g = {(r["id"], *s) for r in gold for s in iob2_spans(r["ner_tags"])}
        p = {(r["id"], *s) for r in gold for s in iob2_spans(preds[r["id"]]["ner_tags"])}
        micro, per_label = entity_counts(gold, preds)
        assert micro == (len(g & p), len(p), len(g))
        labels = sorted({s[1] for s in g | p})
        assert list(per_label) == labels
        for label in labels:
            gl = {s for s in g if s[1] == label}
            pl = {s for s in p if s[1] == label}
            assert per_label[label] == (len(gl & pl), len(pl), len(gl))


def test_cue_claimer_prefers_the_name_right_after_said() -> None:
    assert cue_claimer('"No," said Tarre.') == (True, "Tarre")
    assert cue_claimer("Minister Ana Lopez told Sputnik the talks failed.") == (True, "Ana Lopez")
    assert cue_claimer("The talks failed.") == (False, None)
