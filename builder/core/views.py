"""Task views derived from documents: sentences, tokens with IOB2 tags, claim sentences and
(claim, target) stance pairs; and the Arrow tables of every release config.

Sentences and tokens are found by fixed rules:

- a sentence ends at . ! ? (optionally followed by a closing quote) before whitespace and an
  upper-case letter, digit or opening quote, unless the word ending in the full stop is an
  abbreviation ("Col. Jose Luis Silva"); a paragraph break (a run of newlines) always ends a
  sentence. Sentences are trimmed of whitespace; empty ones are dropped.
- a token is a run of word characters (``\\w``), two runs joined by a ``-``, ``’`` or ``'``
  between them being one ("well-known", "don't"), or any other single character that is not
  whitespace. A token that straddles an entity boundary is split there, so every entity is a
  whole number of tokens.

:class:`Views` finds them for many documents at once, with array operations over the code points
of all their texts, and builds the tables from columns. The same rules written plainly, one
document at a time, live in ``tests/support/views_reference.py``; ``tests/core/test_views.py``
checks that both give the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from ..contracts.features import CONFIGS, arrow_schema
from ..contracts.labels import NER_TAGS, STANCES
from ..records import Claim, Document, Entity

# Abbreviations after which a full stop does not end a sentence ("Col. Jose Luis Silva").
_ABBREVIATIONS = frozenset(
    [
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "Prof",
        "Col",
        "Gen",
        "Lt",
        "Sgt",
        "Capt",
        "Maj",
        "Adm",
        "Gov",
        "Sen",
        "Rep",
        "Sec",
        "Pres",
        "St",
        "Jr",
        "Sr",
        "Inc",
        "Co",
        "Corp",
        "Ltd",
        "No",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Sept",
        "Oct",
        "Nov",
        "Dec",
        "U.S",
        "U.K",
        "U.N",
        "E.U",
    ]
)
_JOINERS = "-’'"  # join two runs of word characters into one token
_STOPS = ".!?"  # may end a sentence
_CLOSE = "\"'”’"  # closing quote after the stop
_OPEN = "\"“'‘"  # opening quote before the next sentence's first character
_CAP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # may start a sentence

# The class of a character, a bit each. WORD and SPACE are exactly the ``\w`` and ``\s`` of
# Python's ``re`` (str.isalnum() or "_", and str.isspace()); OTHER is any other character.
_WORD, _SPACE, _OTHER, _JOIN, _STOP, _NL = 1, 2, 4, 8, 16, 32


def _class(ch: str) -> int:
    bits = _WORD if ch.isalnum() or ch == "_" else _SPACE if ch.isspace() else _OTHER
    if ch in _JOINERS:
        bits |= _JOIN
    if ch in _STOPS:
        bits |= _STOP
    if ch == "\n":
        bits |= _NL
    return bits


# The classes of ASCII for bytes.translate, and of every code point (0: not known yet, filled
# in as code points are met).
_ASCII = bytes(_class(chr(i)) for i in range(128)) + bytes(128)
_CLASSES = np.zeros(0x110000, dtype=np.uint8)
_CLASSES[:128] = np.frombuffer(_ASCII[:128], dtype=np.uint8)

# Sets looked up at a few positions only, a bit each.
_CLOSE_Q, _OPEN_Q, _CAPITAL = 1, 2, 4


def _marks() -> NDArray[np.uint8]:
    marks = np.zeros(0x110000, dtype=np.uint8)
    for bit, chars in ((_CLOSE_Q, _CLOSE), (_OPEN_Q, _OPEN), (_CAPITAL, _CAP)):
        for c in chars:
            marks[ord(c)] |= bit
    return marks


_MARKS = _marks()


def _marked(cps: NDArray[np.unsignedinteger[Any]], bit: int) -> NDArray[np.bool_]:
    marked: NDArray[np.bool_] = (_MARKS[cps] & bit) != 0
    return marked


# The last part of each abbreviation ("S" of "U.S"): the word characters just before its stop.
_TAILS = frozenset(a.rsplit(".", 1)[-1] for a in _ABBREVIATIONS)
_TAIL_LEN = max(map(len, _TAILS))
assert all("A" <= t[0] <= "Z" for t in _TAILS)  # so only capitalised words need a look

_LABELS = sorted({t[2:] for t in NER_TAGS if t != "O"})
_LABEL_INDEX = {label: i for i, label in enumerate(_LABELS)}
_B = np.array([NER_TAGS.index(f"B-{label}") for label in _LABELS], dtype=np.int64)
_I = np.array([NER_TAGS.index(f"I-{label}") for label in _LABELS], dtype=np.int64)
_STANCE = {name: i for i, name in enumerate(STANCES)}

_I32, _STR = pa.int32(), pa.string()
_MAX_TEXT = (2**31 - 1) // 4  # characters, of up to four UTF-8 bytes each


def _ints(values: Sequence[int]) -> NDArray[np.int64]:
    return np.array(values, dtype=np.int64) if len(values) else np.zeros(0, dtype=np.int64)


def _i32(values: Any) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int32), type=_I32)


def _ranges(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenation of ``range(s, s + n)`` for every ``s, n``."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    out: NDArray[np.int64] = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return out + np.arange(total)


class Views:
    """The sentences, tokens and tags of some documents, and their rows of every config as
    Arrow tables, in document order. ``rows``: the documents' ``documents`` rows
    (``Document.to_row()``) when already made."""

    def __init__(self, docs: Sequence[Document], rows: Sequence[dict[str, Any]] | None = None):
        self.docs = docs
        self.rows = rows
        self._cache_sentence_ids: tuple[pa.Array, pa.Array] | None = None
        self._cache_claims_of: (
            tuple[list[Claim], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None
        ) = None
        self._cache_by_id: list[dict[str, Entity] | None] | None = None
        self._cache_claimers: list[str | None] | None = None
        texts = [d.article.text for d in docs]
        lens = _ints(list(map(len, texts)))
        # All texts in one string, each followed by a NUL that is in no sentence and no token.
        self.text = text = "\0".join(texts) + "\0"
        if len(text) > _MAX_TEXT:  # the offsets are int32
            raise ValueError(
                f"{len(texts)} texts of {len(text)} characters: too long to be viewed at once"
            )
        self.base = np.cumsum(lens + 1) - lens - 1  # where each text starts
        self.nul = self.base + lens if len(texts) else np.zeros(1, dtype=np.int64)
        if text.isascii():
            raw = text.encode("ascii")
            self.cps: NDArray[np.unsignedinteger[Any]] = np.frombuffer(raw, dtype=np.uint8)
            codes = np.frombuffer(raw.translate(_ASCII), dtype=np.uint8)
            self._wide = None  # every code point is one UTF-8 byte
            self._utf8 = pa.py_buffer(raw)
        else:
            self.cps = cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
            # ASCII as above, the few others from the table.
            wide = np.flatnonzero(cps >= 0x80)
            codes = np.frombuffer(
                cps.astype(np.uint8).tobytes().translate(_ASCII), dtype=np.uint8
            ).copy()
            classes = _CLASSES[cps[wide]]
            if not classes.all():
                for cp in np.unique(cps[wide][classes == 0]).tolist():
                    _CLASSES[cp] = _class(chr(cp))
                classes = _CLASSES[cps[wide]]
            codes[wide] = classes
            # The code points of more than one UTF-8 byte, and how many more.
            self._wide = (wide, 1 + (cps[wide] >= 0x800) + (cps[wide] >= 0x10000))
            self._utf8 = pa.py_buffer(text.encode("utf-8"))
        self._tokens(codes)
        self._sentences(codes)
        self._tags()

    # --- tokens, sentences, tags -------------------------------------------------------------

    def _tokens(self, codes: NDArray[np.uint8]) -> None:
        word = (codes & _WORD).view(np.bool_)  # _WORD is bit 0: 0 or 1, a valid bool
        other = (codes & _OTHER) != 0
        other[self.nul] = False
        joiners = np.flatnonzero((codes & _JOIN) != 0)
        if len(joiners):  # a joiner between two word characters is one
            joiners = joiners[(joiners > 0) & word[joiners - 1] & word[joiners + 1]]
            word = word.copy()
            word[joiners] = True
            other[joiners] = False
        first = other.copy()  # the first character of a token
        first[0] |= word[0]
        first[1:] |= word[1:] & ~word[:-1]
        last = other  # the last one
        last[:-1] |= word[:-1] & ~word[1:]
        last[-1] |= word[-1]
        starts = np.flatnonzero(first)
        ends = np.flatnonzero(last) + 1
        self.run_start = starts  # before the splits at entity boundaries
        docs = self.docs
        self.ents = ents = [e for d in docs for e in d.entities]
        self.ent_offsets = np.cumsum(_ints([0, *map(len, (d.entities for d in docs))]))
        ent_base = np.repeat(self.base, np.diff(self.ent_offsets))
        self.ent_start = _ints([e.start for e in ents]) + ent_base
        self.ent_end = _ints([e.end for e in ents]) + ent_base
        # The first token starting at or after each entity's start and end. A boundary is
        # strictly inside the token before that one if it ends after the boundary.
        first = np.searchsorted(starts, np.concatenate([self.ent_start, self.ent_end]))
        if len(ents) and len(starts):
            cuts = np.concatenate([self.ent_start, self.ent_end])
            inside = (first > 0) & (ends[np.maximum(first - 1, 0)] > cuts)
            if inside.any():
                cuts = np.unique(cuts[inside])
                starts = np.insert(starts, np.searchsorted(starts, cuts), cuts)
                ends = np.insert(ends, np.searchsorted(ends, cuts), cuts)
                first = np.searchsorted(starts, np.concatenate([self.ent_start, self.ent_end]))
        self.tok_start, self.tok_end = starts, ends
        self.ent_first = first[: len(ents)]  # tokens of entity e: ent_first[e]:ent_past[e]
        self.ent_past = first[len(ents) :]

    def _sentences(self, codes: NDArray[np.uint8]) -> None:
        """Every non-space character is in a token and no token crosses a sentence boundary,
        so a sentence trimmed of whitespace runs from its first token's start to its last
        token's end."""
        cps, starts, ends = self.cps, self.tok_start, self.tok_end
        # A stop, an optional closing quote, whitespace, then [A-Z0-9] or an opening quote and
        # [A-Z0-9]: the sentence ends after the stop (and quote).
        stop = np.flatnonzero((codes & _STOP) != 0)
        quoted = _marked(cps[stop + 1], _CLOSE_Q)
        end = stop + 1 + quoted
        doc = np.searchsorted(self.base, end, side="right") - 1
        nxt = (
            starts[np.minimum(np.searchsorted(starts, end), len(starts) - 1)]
            if len(starts)
            else end
        )  # the first character after the whitespace...
        ok = ((codes[end] & _SPACE) != 0) & (nxt > end) & (nxt < self.nul[doc])  # ...in the text
        after = np.minimum(nxt + 1, len(cps) - 1)
        ok &= _marked(cps[nxt], _CAPITAL) | (
            _marked(cps[nxt], _OPEN_Q) & _marked(cps[after], _CAPITAL)
        )
        end, quoted, stop, doc = end[ok], quoted[ok], stop[ok], doc[ok]
        # ...unless an unquoted full stop ends an abbreviation: only one after another full
        # stop, or after the last part of an abbreviation, can.
        dot = np.flatnonzero(~quoted & (cps[stop] == ord(".")))
        if len(dot):
            at = stop[dot]
            check = dot[(cps[at - 1] == ord(".")) | self._tail(at)]
            if len(check):
                end = np.delete(end, self._abbreviations(end[check], doc[check], check))
        newlines = np.flatnonzero((codes & _NL) != 0)
        run_ends: NDArray[np.bool_] | list[bool] = (
            np.append(newlines[1:] != newlines[:-1] + 1, True) if len(newlines) else []
        )
        breaks = newlines[run_ends] + 1  # after a run of newlines
        bounds = np.unique(np.concatenate([end, breaks, self.base, self.nul]))
        i = np.searchsorted(ends, bounds[:-1], side="right")  # first token after the start
        j = np.searchsorted(starts, bounds[1:])  # first token after the end
        keep = i < j
        i, j = i[keep], j[keep]
        self.sent_start, self.sent_end = starts[i], ends[j - 1]
        self.tok_offsets = np.append(i, len(starts))  # tokens of sentence k: [k]:[k+1]
        self.sent_doc = np.searchsorted(self.base, self.sent_start, side="right") - 1
        doc_first = np.searchsorted(self.sent_doc, np.arange(len(self.docs) + 1))
        self.sent_offsets = doc_first  # sentences of document d: [d]:[d+1]
        self.sent_index = np.arange(len(self.sent_start)) - doc_first[self.sent_doc]

    def _tail(self, at: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether the word characters before each stop at ``at`` (their whole run, unsplit)
        are the last part of an abbreviation."""
        runs, text = self.run_start, self.text
        start = runs[np.maximum(np.searchsorted(runs, at) - 1, 0)]
        short = np.flatnonzero(
            (start < at) & (at - start <= _TAIL_LEN) & _marked(self.cps[start], _CAPITAL)
        )
        found = np.zeros(len(at), dtype=bool)
        found[short] = [
            text[a:b] in _TAILS
            for a, b in zip(start[short].tolist(), at[short].tolist(), strict=True)
        ]
        return found

    def _abbreviations(
        self, ends: NDArray[np.int64], docs: NDArray[np.int64], which: NDArray[np.int64]
    ) -> list[int]:
        """``which[k]`` for every full stop ending at ``ends[k]`` that ends an abbreviation."""
        text = self.text
        out = []
        for k, p, low in zip(which.tolist(), ends.tolist(), self.base[docs].tolist(), strict=True):
            # The word ending here: after the last whitespace before it or the text's start,
            # looked for near it first.
            word = text[max(low, p - 24) : p].rsplit(None, 1)
            if len(word) == 1 and p - 24 > low:
                word = text[low:p].rsplit(None, 1)
            if word and word[-1].rstrip(".").lstrip('("“') in _ABBREVIATIONS:
                out.append(k)
        return out

    def _tags(self) -> None:
        """IOB2 tags: an entity tags the tokens that start inside it (they end inside it, being
        split at its end); where entities overlap, the later one wins. The first token an
        entity tags in a sentence is B-."""
        starts = self.tok_start
        tags = np.zeros(len(starts), dtype=np.int64)
        ents = self.ents
        if ents:
            a = self.ent_first
            counts = np.maximum(self.ent_past - a, 0)
            winner = np.full(len(starts), -1, dtype=np.int64)
            np.maximum.at(winner, _ranges(a, counts), np.repeat(np.arange(len(ents)), counts))
            tagged = np.flatnonzero(winner >= 0)
            owner = winner[tagged]
            index = _LABEL_INDEX  # an unknown label is refused here (KeyError)
            label = _ints([index[e.label] for e in ents])[owner]
            sentence_first = np.zeros(len(starts) + 1, dtype=bool)
            sentence_first[self.tok_offsets] = True
            begins = (tagged == a[owner]) | sentence_first[tagged]
            tags[tagged] = np.where(begins, _B[label], _I[label])
        self.tags = tags

    # --- shared columns ---------------------------------------------------------------------

    def _strings(self, starts: NDArray[np.int64], ends: NDArray[np.int64]) -> pa.Array:
        """``text[s:e]`` for every ``s, e`` (positions in ``self.text``, ordered, disjoint)."""
        n = len(starts)
        if not n:
            return pa.array([], type=_STR)
        bounds = np.empty(2 * n, dtype=np.int64)
        bounds[0::2] = starts
        bounds[1::2] = ends
        if self._wide is not None:  # code point to UTF-8 byte offsets: add the extra bytes
            wide, extra = self._wide  # of the wide characters before each offset
            after = np.searchsorted(bounds, wide, side="right")
            bounds += np.cumsum(
                np.bincount(after, weights=extra, minlength=2 * n + 1)[: 2 * n]
            ).astype(np.int64)
        bounds = bounds.astype(np.int32)
        # Every piece and every gap between two, then only the pieces.
        both = pa.StringArray.from_buffers(2 * n - 1, pa.py_buffer(bounds), self._utf8)
        return both.take(pa.array(np.arange(0, 2 * n - 1, 2)))

    def _local(self, positions: NDArray[np.int64], doc: NDArray[np.int64]) -> pa.Array:
        return _i32(positions - self.base[doc])

    def _make_sentence_ids(self) -> tuple[pa.Array, pa.Array]:
        """``<document id>/s<k>`` and the document id of every sentence."""
        doc_ids = pa.array([d.article.id for d in self.docs], type=_STR).take(
            pa.array(self.sent_doc)
        )
        k = pc.cast(pa.array(self.sent_index), _STR)
        return pc.binary_join_element_wise(doc_ids, k, "/s"), doc_ids

    def _make_claims_of(
        self,
    ) -> tuple[list[Claim], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Every claim, its document, and the sentences it overlaps: ``k0[c]:k1[c]`` (and
        ``claim_start``, ``claim_end``: its offsets in its text)."""
        docs = self.docs
        claims = [c for d in docs for c in d.claims]
        doc = np.repeat(np.arange(len(docs)), _ints([len(d.claims) for d in docs]))
        base = self.base[doc]
        self.claim_start = _ints([c.start for c in claims])
        self.claim_end = _ints([c.end for c in claims])
        k0 = np.searchsorted(self.sent_end, self.claim_start + base, side="right")
        k1 = np.searchsorted(self.sent_start, self.claim_end + base)
        return claims, doc, k0, np.maximum(k1, k0)

    def _make_by_id(self) -> list[dict[str, Entity] | None]:
        """The entities of each document by id (None: not needed, no claimer and no target)."""
        return [
            {e.id: e for e in d.entities}
            if any(c.claimer_id or c.target_ids for c in d.claims)
            else None
            for d in self.docs
        ]

    def _make_claimers(self) -> list[str | None]:
        """The claimer's name of every claim (None: no claimer)."""
        # (None only for a document whose claims name no claimer: never looked into)
        by_id = cast("list[dict[str, Entity]]", self._by_id)
        return [
            by_id[i][c.claimer_id].text if c.claimer_id else None
            for i, d in enumerate(self.docs)
            for c in d.claims
        ]

    # --- computed once, on first use (the tables share them) ---------------------------------

    @property
    def _sentence_ids(self) -> tuple[pa.Array, pa.Array]:
        if self._cache_sentence_ids is None:
            self._cache_sentence_ids = self._make_sentence_ids()
        return self._cache_sentence_ids

    @property
    def _claims_of(
        self,
    ) -> tuple[list[Claim], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        if self._cache_claims_of is None:
            self._cache_claims_of = self._make_claims_of()
        return self._cache_claims_of

    @property
    def _by_id(self) -> list[dict[str, Entity] | None]:
        if self._cache_by_id is None:
            self._cache_by_id = self._make_by_id()
        return self._cache_by_id

    @property
    def _claimers(self) -> list[str | None]:
        if self._cache_claimers is None:
            self._cache_claimers = self._make_claimers()
        return self._cache_claimers

    # --- tables -----------------------------------------------------------------------------

    def table(self, config: str) -> pa.Table:
        table: pa.Table = getattr(self, f"_{config}")()
        return table

    def row_offsets(self, config: str) -> NDArray[np.int64]:
        """Where the rows of each document start in ``table(config)`` (one more: the end)."""
        if config == "documents":
            return np.arange(len(self.docs) + 1)
        if config == "stance":
            targets = _ints([len(c.target_ids) for c in self._claims_of[0]])
            per_doc = np.bincount(self._claims_of[1], weights=targets, minlength=len(self.docs))
            return np.concatenate([[0], np.cumsum(per_doc.astype(np.int64))])
        return self.sent_offsets

    def _documents(self) -> pa.Table:
        # Arrow converts the row dicts faster than their columns can be taken apart in Python;
        # as one struct array a little faster than column by column (Table.from_pylist).
        rows = self.rows if self.rows is not None else [d.to_row() for d in self.docs]
        schema = arrow_schema("documents")
        return pa.Table.from_struct_array(
            pa.array(rows, type=pa.struct(list(schema)))
        ).replace_schema_metadata(schema.metadata)

    def _entities(self) -> pa.Table:
        ids, doc_ids = self._sentence_ids
        offsets = _i32(self.tok_offsets)
        tok_doc = np.repeat(self.sent_doc, np.diff(self.tok_offsets))
        columns = [
            ids,
            doc_ids,
            _i32(self.sent_index),
            pa.ListArray.from_arrays(offsets, self._strings(self.tok_start, self.tok_end)),
            pa.ListArray.from_arrays(offsets, self._local(self.tok_start, tok_doc)),
            pa.ListArray.from_arrays(offsets, self._local(self.tok_end, tok_doc)),
            pa.ListArray.from_arrays(offsets, pa.array(self.tags, type=pa.int64())),
        ]
        return pa.Table.from_arrays(columns, schema=arrow_schema("entities"))

    def _claims(self) -> pa.Table:
        ids, doc_ids = self._sentence_ids
        claims, doc, k0, k1 = self._claims_of
        counts = k1 - k0
        # (sentence, claim) pairs, by sentence and then in claim order.
        sentence = _ranges(k0, counts)
        pick = np.repeat(np.arange(len(claims)), counts)[np.argsort(sentence, kind="stable")]
        per_sentence = np.bincount(sentence, minlength=len(self.sent_start))
        children = [
            pa.array([c.id for c in claims], type=_STR),
            _i32(self.claim_start),
            _i32(self.claim_end),
            pa.array([c.text for c in claims], type=_STR),
            pa.array([c.attribution for c in claims], type=_STR),
            pa.array(self._claimers, type=_STR),
        ]
        struct = arrow_schema("claims").field("claims").type.value_type
        if len(pick) != len(claims) or (pick != np.arange(len(claims))).any():
            children = [a.take(pa.array(pick)) for a in children]  # not one sentence per claim
        values = pa.StructArray.from_arrays(children, fields=list(struct))
        columns = [
            ids,
            doc_ids,
            _i32(self.sent_index),
            self._strings(self.sent_start, self.sent_end),
            self._local(self.sent_start, self.sent_doc),
            pa.array(per_sentence > 0, type=pa.bool_()),
            pa.ListArray.from_arrays(_i32(np.concatenate([[0], np.cumsum(per_sentence)])), values),
        ]
        return pa.Table.from_arrays(columns, schema=arrow_schema("claims"))

    def _stance(self) -> pa.Table:
        claims, doc, k0, k1 = self._claims_of
        docs, text, by_id, claimers = self.docs, self.text, self._by_id, self._claimers
        rows: list[tuple[Any, ...]] = []
        which = [i for i, c in enumerate(claims) if c.target_ids]
        if which:
            doc_, k0_, k1_ = doc.tolist(), k0.tolist(), k1.tolist()
            starts, ends, base = (
                self.sent_start.tolist(),
                self.sent_end.tolist(),
                self.base.tolist(),
            )
        for i in which:
            c, d = claims[i], doc_[i]
            entities = by_id[d]
            assert entities is not None
            # The sentences the claim overlaps, or the claim itself if none.
            a, b = k0_[i], k1_[i]
            context = (
                text[starts[a] : ends[b - 1]]
                if b > a
                else text[base[d] + c.start : base[d] + c.end]
            )
            doc_id = docs[d].id
            rows.extend(
                (
                    f"{doc_id}/{c.id}/{t}",
                    doc_id,
                    c.id,
                    c.text,
                    entities[t].text,
                    entities[t].label,
                    claimers[i],
                    context,
                    _STANCE[c.stance],
                )
                for t in c.target_ids
            )
        schema = arrow_schema("stance")
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
        return pa.Table.from_arrays(
            [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
            schema=schema,
        )


def split_tables(
    docs: Sequence[Document], rows: Sequence[dict[str, Any]], splits: Sequence[str]
) -> dict[tuple[str, str], pa.Table]:
    """One table per (config, split) of ``docs`` (``rows``: their ``documents`` rows,
    ``splits``: their splits), rows in document order; splits without rows left out. Made in
    one pass over all the documents and cut by split, which is cheaper than a pass per split.
    Each table owns compact buffers (a copy, not a zero-copy slice): a pickled or retained
    slice would carry the buffers of every split of the batch."""
    order = sorted(range(len(docs)), key=splits.__getitem__)  # stable: keeps document order
    views = Views([docs[i] for i in order], [rows[i] for i in order])
    bounds: list[tuple[str, int, int]] = []  # split, first and last document + 1
    for split, group in groupby(order, key=splits.__getitem__):
        lo = bounds[-1][2] if bounds else 0
        bounds.append((split, lo, lo + sum(1 for _ in group)))
    out: dict[tuple[str, str], pa.Table] = {}
    for config in CONFIGS:
        table = views.table(config)
        offsets = views.row_offsets(config)
        for split, lo, hi in bounds:
            first, last = int(offsets[lo]), int(offsets[hi])
            if last - first == table.num_rows:
                out[(config, split)] = table
            elif last > first:
                out[(config, split)] = table.take(np.arange(first, last))
    return out


def named_rows(config: str, table: pa.Table) -> list[dict[str, Any]]:
    """The rows of a task config's ``table`` as dicts, ClassLabel columns as names."""
    rows: list[dict[str, Any]] = table.to_pylist()
    if config == "entities":
        for r in rows:
            r["ner_tags"] = [NER_TAGS[t] for t in r["ner_tags"]]
    elif config == "stance":
        for r in rows:
            r["label"] = STANCES[r["label"]]
    return rows
