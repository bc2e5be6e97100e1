"""The task views (sentences, tokens, IOB2 tags, claim sentences, stance pairs) and the tables
of every config: the columnar implementation the build writes (``Views``) gives exactly the rows
of the plain one (``entity_rows``, ``claim_rows``, ``stance_rows``: a regex match at a time, one
document at a time), on the seed article, on synthetic benchmark documents, on hand-picked texts
and on random ones; and batching and splitting do not change the tables."""

from __future__ import annotations

import pickle
import re
import sys
from collections.abc import Iterable

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.helpers import ROOT, SEED_ID
from support.views_reference import claim_rows, entity_rows, sentences, stance_rows, task_rows

from builder.contracts.features import CONFIGS, features
from builder.contracts.labels import ENTITY_LABELS, NER_TAGS, STANCES
from builder.core.merge import merge
from builder.core.views import Views, split_tables
from builder.io.articles import read_articles
from builder.io.exports import read_export
from builder.records import AnnotationInfo, Article, ArticleMeta, Claim, Document, Entity

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

# The reference: the rules applied one document at a time, as the release 0.1.0 was built.
REFERENCE = {"entities": entity_rows, "claims": claim_rows, "stance": stance_rows}


def assert_like_reference(docs: list[Document]) -> None:
    """The tables of ``docs``, as row dicts, are the reference rows; one document at a time
    and all at once."""
    for config, rows in REFERENCE.items():
        expected = [r for d in docs for r in rows(d)]
        assert task_rows(config, docs) == expected, config
        if len(docs) > 1:
            assert [r for d in docs for r in task_rows(config, [d])] == expected, config


# --- documents ------------------------------------------------------------------------------


def make_doc(
    text: str,
    entities: Iterable[tuple[int, int, str]] = (),
    claims: Iterable[tuple[int, int, int | None, tuple[int, ...]]] = (),
    doc_id: str = "d",
) -> Document:
    """A document of ``text`` with entities ``(start, end, label)`` and claims ``(start, end,
    claimer entity index or None, target entity indexes)``."""
    ents = tuple(
        Entity(f"e{i}", s, e, text[s:e], label) for i, (s, e, label) in enumerate(entities)
    )
    cls = tuple(
        Claim(
            f"c{i}",
            s,
            e,
            text[s:e],
            None if who is None else f"e{who}",
            tuple(f"e{t}" for t in targets),
            "AUTHOR" if who is None else "REPORTED",
            STANCES[i % len(STANCES)],
        )
        for i, (s, e, who, targets) in enumerate(claims)
    )
    meta = ArticleMeta(source="s", title="t", language="en", license="CC0-1.0")
    return Document(
        Article(doc_id, text, meta, ""), ents, cls, AnnotationInfo(1, ("a",), "x"), "0" * 64
    )


def view_sentences(text: str) -> list[tuple[int, int]]:
    views = Views([make_doc(text)])
    return list(zip(views.sent_start.tolist(), views.sent_end.tolist(), strict=True))


def span(text: str, part: str, nth: int = 0) -> tuple[int, int]:
    i = -1
    for _ in range(nth + 1):
        i = text.index(part, i + 1)
    return i, i + len(part)


@pytest.fixture(scope="module")
def seed_doc() -> Document:
    articles = {a.id: a for a in read_articles(ROOT / "articles")}
    task = next(
        t
        for t in read_export(ROOT / "annotations" / "exports" / "gold.json")
        if t.article_id == SEED_ID
    )
    doc = merge(articles[SEED_ID], task)
    assert doc is not None
    return doc


@pytest.fixture(scope="module")
def bench_docs(tmp_path_factory: pytest.TempPathFactory) -> list[Document]:
    """Synthetic benchmark documents: long texts, many spans, emoji and CRLF articles."""
    export, articles_dir = generate(160, tmp_path_factory.mktemp("bench"), seed=5)
    articles = {a.id: a for a in read_articles(articles_dir)}
    docs = [merge(articles[t.article_id], t) for t in read_export(export)]
    return [d for d in docs if d is not None]


def test_seed_article_like_reference(seed_doc: Document) -> None:
    assert len(list(entity_rows(seed_doc))) > 10
    assert_like_reference([seed_doc])


def test_bench_documents_like_reference(bench_docs: list[Document]) -> None:
    assert len(bench_docs) > 100
    assert any(not d.article.text.isascii() for d in bench_docs)
    assert any(c.target_ids for d in bench_docs for c in d.claims)
    assert_like_reference(bench_docs)


def test_tokens_split_at_entity_boundaries() -> None:
    text = "The anti-Biden camp met Jean-Luc Picard's aides."
    doc = make_doc(
        text,
        [
            (*span(text, "Biden"), "PER"),
            (*span(text, "Luc Pic"), "PER"),
            (*span(text, "camp"), "ORG"),
        ],
    )
    (row,) = entity_rows(doc)
    assert row["tokens"] == [
        "The",
        "anti-",
        "Biden",
        "camp",
        "met",
        "Jean-",
        "Luc",
        "Pic",
        "ard's",
        "aides",
        ".",
    ]
    assert row["ner_tags"] == [
        "O",
        "O",
        "B-PER",
        "B-ORG",
        "O",
        "O",
        "B-PER",
        "I-PER",
        "O",
        "O",
        "O",
    ]
    assert [text[s:e] for s, e in zip(row["token_starts"], row["token_ends"], strict=True)] == row[
        "tokens"
    ]
    assert_like_reference([doc])


def test_several_cuts_in_one_token_and_overlapping_entities() -> None:
    text = "Xabcdefg went home."
    doc = make_doc(text, [(1, 3, "PER"), (2, 6, "ORG"), (0, 8, "LOC"), (5, 7, "GPE")])
    assert [r["tokens"] for r in entity_rows(doc)] == [
        ["X", "a", "b", "cd", "e", "f", "g", "went", "home", "."]
    ]
    assert_like_reference([doc])


def test_entity_across_a_sentence_boundary_begins_in_each_sentence() -> None:
    text = "He met Ana Lopez. Lopez Senior left."
    doc = make_doc(text, [(span(text, "Ana")[0], span(text, "Senior")[1], "PER")])
    tags = [r["ner_tags"] for r in entity_rows(doc)]
    assert tags == [["O", "O", "B-PER", "I-PER", "I-PER"], ["B-PER", "I-PER", "O", "O"]]
    assert_like_reference([doc])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n \t ",
        "\n\nOne.\n\n\n\nTwo.\n\n",
        "Windows lines.\r\nNext line?\r\n\r\nNew paragraph!\r\n",
        "Fire 🔥 spreads. Smoke 💨 follows!\n\n“Quoted,” she said. ‘Single’ too.",
        "Col. Jose Luis Silva met Dr. No. Then U.S. officials left. Mr.Smith stayed. (Gen. Ruiz.) "
        "“Sept. 4” was Col... Silva's day. No. 5 won.",
        'He said "stop." Then left. It costs 4.5 dollars. See 3. Done? "Yes!" Ok. 1999 came.',
        "naïve café Straße 東京 ١٢٣ x_y don’t well-known -lead trail- a--b 'quoted' end.",
        "NUL\x00inside. Control\x1ccharacters\x1fhere. Tab\tseparated.\x0bVertical.",
        "no stop at the end",
        ".",
        "?!",
        "A. B. C.",
        "e.g. lower. Upper",
    ],
)
def test_texts_like_reference(text: str) -> None:
    words = list(re.finditer(r"\w+", text))
    entities = [
        (m.start(), m.end(), ENTITY_LABELS[i % len(ENTITY_LABELS)])
        for i, m in enumerate(words[::3])
    ]
    claims = [
        (m.start(), m.end(), 0 if entities else None, (0,) if entities else ()) for m in words[1::4]
    ]
    doc = make_doc(text, entities, claims)
    assert view_sentences(text) == sentences(text)
    assert_like_reference([doc])


def test_no_sentences_no_rows() -> None:
    doc = make_doc(" \n ", claims=[(1, 1, None, ())])
    assert list(entity_rows(doc)) == [] and list(claim_rows(doc)) == []
    tables = Views([doc]).table("entities"), Views([doc]).table("claims")
    assert [t.num_rows for t in tables] == [0, 0]


def test_claim_outside_every_sentence_takes_itself_as_context() -> None:
    text = "One.   Two."
    doc = make_doc(text, [(0, 3, "PER")], [(4, 6, 0, (0,)), (0, 11, None, (0,))])
    contexts = [r["context"] for r in stance_rows(doc)]
    assert contexts == ["  ", "One.   Two."]
    assert_like_reference([doc])


# Texts drawn from the characters the rules care about.
_ALPHABET = "aZ9_ é東😀 \t\n\r.!?\"'”’“‘-()x"


@st.composite
def documents(draw: st.DrawFn) -> Document:
    text = draw(st.text(alphabet=_ALPHABET, max_size=60))
    n = len(text)
    bounds = st.tuples(st.integers(0, n), st.integers(0, n)).map(sorted)
    entities = [
        (s, e, draw(st.sampled_from(ENTITY_LABELS))) for s, e in draw(st.lists(bounds, max_size=5))
    ]
    who = st.none() | st.integers(0, len(entities) - 1) if entities else st.none()
    targets = (
        st.lists(st.integers(0, len(entities) - 1), max_size=2, unique=True)
        if entities
        else st.just([])
    )
    claims = [
        (s, e, draw(who), tuple(draw(targets))) for s, e in draw(st.lists(bounds, max_size=3))
    ]
    return make_doc(text, entities, claims, doc_id=draw(st.sampled_from(["a", "b/c"])))


@settings(max_examples=300, deadline=None)
@given(st.lists(documents(), min_size=1, max_size=4))
def test_random_documents_like_reference(docs: list[Document]) -> None:
    for d in docs:
        assert view_sentences(d.article.text) == sentences(d.article.text)
    assert_like_reference(docs)


# --- tables ---------------------------------------------------------------------------------


def test_tables_have_the_release_schema(bench_docs: list[Document]) -> None:
    views = Views(bench_docs[:20])
    for config in CONFIGS:
        table = views.table(config)
        assert table.schema == features()[config].arrow_schema
        assert table.num_rows == views.row_offsets(config)[-1]
    documents = views.table("documents")
    expected = pa.Table.from_pylist(
        [d.to_row() for d in bench_docs[:20]], schema=features()["documents"].arrow_schema
    )
    assert documents.equals(expected)


def test_class_labels_are_ints_of_the_names(seed_doc: Document) -> None:
    table = Views([seed_doc]).table("entities")
    tags = [NER_TAGS[t] for row in table.column("ner_tags").to_pylist() for t in row]
    assert tags == [t for r in entity_rows(seed_doc) for t in r["ner_tags"]]


def test_split_tables_equal_per_split_tables(bench_docs: list[Document]) -> None:
    docs = bench_docs[:40]
    splits = ["train", "test", "validation", "train"] * 10
    rows = [d.to_row() for d in docs]
    tables = split_tables(docs, rows, splits)
    for split in ("train", "validation", "test"):
        mine = [d for d, s in zip(docs, splits, strict=True) if s == split]
        alone = Views(mine)
        for config in CONFIGS:
            expected = alone.table(config)
            if expected.num_rows:
                assert tables[(config, split)].equals(expected), (config, split)
                # its own buffers: pickled (to the main process) it is no larger than the
                # same rows made alone, not the whole batch's buffers
                mine_size = len(pickle.dumps(tables[(config, split)], protocol=5))
                alone_size = len(pickle.dumps(expected, protocol=5))
                assert mine_size <= alone_size * 1.01 + 1024, (config, split)
            else:
                assert (config, split) not in tables


def test_batches_give_the_same_tables(bench_docs: list[Document]) -> None:
    whole = Views(bench_docs)
    for config in CONFIGS:
        parts = [Views(bench_docs[i : i + 7]).table(config) for i in range(0, len(bench_docs), 7)]
        assert (
            pa.concat_tables(parts).combine_chunks().equals(whole.table(config).combine_chunks())
        ), config


def test_row_dicts_read_back_the_tables(bench_docs: list[Document]) -> None:
    docs = bench_docs[:10]
    views = Views(docs)
    rows = task_rows("stance", docs)
    assert [r["label"] for r in rows] == [
        STANCES[x] for x in views.table("stance").column("label").to_pylist()
    ]
    assert views.table("claims").to_pylist() == task_rows("claims", docs)


def test_views_of_no_documents() -> None:
    views = Views([])
    for config in CONFIGS:
        assert views.table(config).num_rows == 0
    assert split_tables([], [], []) == {}
