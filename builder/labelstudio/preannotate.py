"""Pre-annotations from the ``rules`` reference baseline, for articles not annotated yet.

``claimwire ls tasks ARTICLE... --predictions rules``: the baseline reads the task rows of the
raw article (its cleaned text, no annotation: the ``entities`` and ``claims`` views of a
document with no regions), exactly as it reads a release's rows, and its predictions become
Label Studio results a team then corrects:

- entities: each run of ``B-``/``I-`` tags of one label is a span, from its first token's start
  to its last token's end;
- claims: each predicted claim sentence is a claim, REPORTED with a ``claimer`` relation when
  the cue rule names a claimer that is also the text of a predicted entity (the mention nearest
  the claim), AUTHOR otherwise;
- a ``target`` relation to the first predicted entity inside the claim that is not a mention
  of its claimer, when there is one; the stance of such a claim is the baseline's stance prediction
  for its (claim, target) row, and NEUTRAL for a claim without a target (no stance row).

Every claim so gets its stance and attribution, and a REPORTED claim exactly one claimer: the
results, posted as an annotation, pass ``claimwire validate``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..benchmark.baselines import predict
from ..core.merge import text_sha256
from ..core.views import Views, named_rows
from ..records import AnnotationInfo, Article, Claim, Document, Entity
from .client import annotation_results

BASELINE = "rules"
MODEL_VERSION = f"claimwire-{BASELINE}"

_NO_ANNOTATION = AnnotationInfo(n_annotators=0, annotator_ids=(), adjudication="none")


def _document(
    article: Article, entities: tuple[Entity, ...], claims: tuple[Claim, ...]
) -> Document:
    return Document(article, entities, claims, _NO_ANNOTATION, text_sha256(article.text))


def _entities(article: Article, views: Views) -> list[Entity]:
    """The predicted entity spans: runs of one label's B-/I- tags, at token offsets."""
    text = article.text
    rows = named_rows("entities", views.table("entities"))
    out: list[Entity] = []
    for row, pred in zip(rows, predict(BASELINE, "entities", rows), strict=True):
        starts, ends = row["token_starts"], row["token_ends"]
        span: tuple[int, int, str] | None = None  # first token, last token, label
        for k, tag in enumerate([*pred["ner_tags"], "O"]):
            if span is not None and tag != f"I-{span[2]}":
                s, e = starts[span[0]], ends[span[1]]
                out.append(Entity(f"e{len(out) + 1:03d}", s, e, text[s:e], span[2]))
                span = None
            if tag.startswith("B-") or (tag.startswith("I-") and span is None):
                span = (k, k, tag[2:])
            elif span is not None:
                span = (span[0], k, span[2])
    return out


def _nearest(entities: list[Entity], name: str, start: int, end: int) -> Entity | None:
    """The entity whose text is ``name`` nearest the span ``[start, end)`` (inside it first)."""

    def distance(e: Entity) -> tuple[int, int]:
        if e.start < end and e.end > start:
            return (0, e.start)
        return (min(abs(e.end - start), abs(e.start - end)), e.start)

    same = [e for e in entities if e.text == name]
    return min(same, key=distance) if same else None


def _claims(article: Article, views: Views, entities: list[Entity]) -> list[Claim]:
    """The predicted claim sentences, with their claimer and target (stance set later)."""
    text = article.text
    rows = named_rows("claims", views.table("claims"))
    out: list[Claim] = []
    for pred in predict(BASELINE, "claims", rows):
        for c in pred["claims"]:
            s, e = c["start"], c["end"]
            claimer = _nearest(entities, c["claimer"], s, e) if c["claimer"] else None
            inside = [
                m
                for m in entities
                if s <= m.start and m.end <= e and (claimer is None or m.text != claimer.text)
            ]
            out.append(
                Claim(
                    f"c{len(out) + 1:03d}",
                    s,
                    e,
                    text[s:e],
                    claimer.id if claimer else None,
                    (inside[0].id,) if inside else (),
                    "REPORTED" if claimer else "AUTHOR",
                    "NEUTRAL",
                )
            )
    return out


def predicted_document(article: Article) -> Document:
    """The rules baseline's entities and claims of ``article`` as a document."""
    views = Views([_document(article, (), ())])
    entities = _entities(article, views)
    claims = _claims(article, views, entities)
    # The stance rows of the predicted claims (one per claim with a target), as a release has.
    doc = _document(article, tuple(entities), tuple(claims))
    rows = named_rows("stance", Views([doc]).table("stance"))
    stance = {
        row["claim_id"]: pred["label"]
        for row, pred in zip(rows, predict(BASELINE, "stance", rows), strict=True)
    }
    claims = [replace(c, stance=stance.get(c.id, c.stance)) for c in claims]
    return _document(article, tuple(entities), tuple(claims))


def rules_results(article: Article) -> list[dict[str, Any]]:
    """Label Studio result items of the rules baseline's predictions for ``article``."""
    return annotation_results(predicted_document(article).to_row())
