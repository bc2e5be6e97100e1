"""The contract that lets the build skip checking its rows one by one: ``Document.to_row`` turns
any document whose fields hold what the merge can put there (labels of the scheme, non-empty span
texts, offsets >= 0, pseudonyms, an agreement in [0, 1]) into a row that
``schema/documents.schema.json`` accepts. What the merge puts there is checked on real builds:
every release the tests build goes through ``verify``, which checks every row (the fuzz tests
build releases from thousands of mutated exports)."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.contracts.labels import ATTRIBUTIONS, ENTITY_LABELS, PORTRAYALS, STANCES
from builder.contracts.schemas import iter_problems, load_schema
from builder.records import (
    AnnotationInfo,
    Article,
    ArticleMeta,
    Claim,
    Document,
    Entity,
    SpanCount,
    UnitLabel,
)

DECIDED_BY = tuple(load_schema("documents")["$defs"]["decided_by"]["enum"])
ADJUDICATION = ("single", "ground_truth", "majority", "most_recent")
ATTRIBUTES = ("stance", "attribution", "portrayal", "claimer", "target")

text = st.text(min_size=1, max_size=12)
offset = st.integers(min_value=0, max_value=10**6)
pseudonym = st.integers(min_value=0).map(
    lambda n: "ann-" + hashlib.sha256(str(n).encode()).hexdigest()[:12]
)
maybe = st.one_of(st.none(), st.text(max_size=8))

entities = st.builds(
    Entity,
    id=text,
    start=offset,
    end=offset,
    text=text,
    label=st.sampled_from(ENTITY_LABELS),
    portrayal=st.one_of(st.none(), st.sampled_from(PORTRAYALS)),
    decided_by=st.sampled_from(DECIDED_BY),
)
claims = st.builds(
    Claim,
    id=text,
    start=offset,
    end=offset,
    text=text,
    claimer_id=st.one_of(st.none(), text),
    target_ids=st.tuples(text) | st.just(()),
    attribution=st.sampled_from(ATTRIBUTIONS),
    stance=st.sampled_from(STANCES),
    decided_by=st.sampled_from(DECIDED_BY),
)
counts = st.builds(
    SpanCount,
    annotator_a=pseudonym,
    annotator_b=pseudonym,
    kind=st.sampled_from(("entity", "claim")),
    label=st.text(max_size=8),
    n_a=st.integers(min_value=0, max_value=50),
    n_b=st.integers(min_value=0, max_value=50),
    exact=st.integers(min_value=0, max_value=50),
    overlap=st.integers(min_value=0, max_value=50),
)
unit_labels = st.builds(
    UnitLabel,
    unit=st.text(max_size=8),
    attribute=st.sampled_from(ATTRIBUTES),
    annotator=pseudonym,
    value=text,
)
annotations = st.builds(
    AnnotationInfo,
    n_annotators=st.integers(min_value=1, max_value=9),
    annotator_ids=st.lists(pseudonym, max_size=3).map(tuple),
    adjudication=st.sampled_from(ADJUDICATION),
    agreement=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
    spans=st.lists(counts, max_size=2).map(tuple),
    labels=st.lists(unit_labels, max_size=2).map(tuple),
)
articles = st.builds(
    Article,
    id=text,
    text=st.text(max_size=40),
    meta=st.builds(
        ArticleMeta,
        source=st.text(max_size=8),
        title=st.text(max_size=8),
        language=st.text(max_size=3),
        license=st.text(max_size=8),
        url=maybe,
        published=maybe,
        group=maybe,
    ),
    path=st.just("articles/x.json"),
)
documents = st.builds(
    Document,
    article=articles,
    entities=st.lists(entities, max_size=3).map(tuple),
    claims=st.lists(claims, max_size=3).map(tuple),
    annotation=annotations,
    text_sha256=st.binary(max_size=8).map(lambda b: hashlib.sha256(b).hexdigest()),
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_every_document_the_merge_can_make_is_a_valid_documents_row(doc: Document) -> None:
    assert list(iter_problems("documents", doc.to_row())) == []


def test_the_contract_fails_on_a_value_outside_the_scheme() -> None:
    """The check above can fail: a label the scheme does not have is reported."""
    article = Article("a1", "x", ArticleMeta("s", "t", "en", "CC-BY-4.0"), "articles/a1.json")
    bad = Entity("e1", 0, 1, "x", "NOT_A_LABEL")
    annotation = AnnotationInfo(1, (), "single")
    row = Document(article, (bad,), (), annotation, hashlib.sha256(b"x").hexdigest()).to_row()
    assert [p.pointer for p in iter_problems("documents", row)] == ["/entities/0/label"]
