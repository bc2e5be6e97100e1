"""What the whole-corpus steps of the build keep about the documents, in bounded memory.

The build streams documents through worker processes and never holds them all. The steps that
look at the whole corpus — the leakage check, the card's counts, the agreement figures and the
baseline scores — work from aggregates instead:

- each batch of documents is summarised where it is processed (:class:`BatchCorpus`): counts for
  the card (:class:`CorpusStats`), the MinHash signatures and text digests for the leakage check,
  and the agreement data of documents with two or more annotators;
- the main process adds the batches up in input order (:class:`Corpus`): counts are summed, the
  agreement figures are fed document by document into
  :class:`builder.quality.agreement.Agreement`, the signatures go to a
  :class:`builder.quality.leakage.LeakageIndex` on disk, and the baseline sample keeps
  the task-config rows of the first ``SAMPLE`` documents of each split that the card's baselines
  need, sliced from the Arrow tables the batch is written from (no document travels back from
  a worker for it).

So the memory of these steps is a few bytes per document (its split, for the leakage report) plus
a bounded amount; the build keeps the ids of the annotated articles as 8-byte digests
(:class:`builder.ids.IdSet`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from ..benchmark.scorer import TASKS
from ..core.quarantine import Quarantined
from ..core.views import named_rows
from ..quality.agreement import LOWEST, Agreement, DocAgreement
from ..quality.leakage import BINS, LeakageIndex, signatures
from ..records import Document

SAMPLE = 1000  # documents per split kept for the card's baseline scores


@dataclass
class CorpusStats:
    """The card's counts over a set of documents; batches add up with :meth:`update`."""

    documents: int = 0
    entities: dict[str, Counter[str]] = field(default_factory=dict)  # split -> label -> n
    stance: dict[str, Counter[str]] = field(default_factory=dict)  # split -> stance -> pairs
    claims: Counter[tuple[str, str]] = field(default_factory=Counter)  # (attribution, stance)
    annotators: set[str] = field(default_factory=set)
    adjudication: Counter[str] = field(default_factory=Counter)
    sources: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, license)
    languages: set[str] = field(default_factory=set)
    decided: Counter[str] = field(default_factory=Counter)  # regions by decided_by
    # units set aside by --on-invalid quarantine, by (rule, annotator pseudonym or "-")
    quarantined: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, doc: Document, split: str) -> None:
        self.documents += 1
        ents = self.entities.setdefault(split, Counter())
        for e in doc.entities:
            ents[e.label] += 1
            self.decided[e.decided_by] += 1
        stance = self.stance.setdefault(split, Counter())
        for c in doc.claims:
            self.claims[(c.attribution, c.stance)] += 1
            stance[c.stance] += len(c.target_ids)
            self.decided[c.decided_by] += 1
        self.annotators.update(doc.annotation.annotator_ids)
        self.adjudication[doc.annotation.adjudication] += 1
        meta = doc.article.meta
        self.sources[(meta.source, meta.license)] += 1
        self.languages.add(meta.language)

    def update(self, other: CorpusStats) -> None:
        self.documents += other.documents
        for mine, theirs in ((self.entities, other.entities), (self.stance, other.stance)):
            for split, counts in theirs.items():
                mine.setdefault(split, Counter()).update(counts)
        self.claims.update(other.claims)
        self.annotators |= other.annotators
        self.adjudication.update(other.adjudication)
        self.sources.update(other.sources)
        self.languages |= other.languages
        self.decided.update(other.decided)
        self.quarantined.update(other.quarantined)

    def quarantine(self, units: Iterable[Quarantined]) -> None:
        for u in units:
            self.quarantined[(u.rule, u.annotator or "-")] += 1

    @classmethod
    def of(cls, docs: Iterable[tuple[Document, str]]) -> CorpusStats:
        """The stats of ``(document, split)`` pairs (for tests and small sets)."""
        out = cls()
        for doc, split in docs:
            out.add(doc, split)
        return out


@dataclass
class BatchCorpus:
    """What one batch of the build tells the whole-corpus steps about its documents."""

    names: Sequence[str]  # split names; a split's code is its index
    stats: CorpusStats = field(default_factory=CorpusStats)
    ids: list[str] = field(default_factory=list)
    splits: bytearray = field(default_factory=bytearray)
    sha256: bytearray = field(default_factory=bytearray)
    signatures: NDArray[np.uint32] | None = None
    agreement: list[DocAgreement] = field(default_factory=list)  # documents with agreement data
    texts: list[str] = field(default_factory=list)  # until :meth:`finish`
    signed: dict[int, bytes] = field(default_factory=dict)  # signatures given, by document

    def add(self, doc: Document, split: str) -> None:
        code = self.names.index(split)
        self.stats.add(doc, split)
        self.ids.append(doc.id)
        self.splits.append(code)
        self.sha256 += bytes.fromhex(doc.text_sha256)
        self.texts.append(doc.article.text)
        if doc.annotation.spans or doc.annotation.labels:
            self.agreement.append(DocAgreement.from_document(doc))

    def add_cached(
        self,
        doc_id: str,
        split: str,
        sha256: bytes,
        signature: bytes,
        agreement: DocAgreement | None,
    ) -> None:
        """Add a document as :meth:`add` does, but its stats, from what the build cache kept
        of it (:mod:`builder.pipeline.cache`): its digest, signature (a row of uint32) and
        agreement data."""
        self.ids.append(doc_id)
        self.splits.append(self.names.index(split))
        self.sha256 += sha256
        self.signed[len(self.texts)] = signature
        self.texts.append("")
        if agreement is not None:
            self.agreement.append(agreement)

    def finish(self) -> None:
        """Compute the batch's signatures and drop the texts, which are not sent back to the
        main process."""
        if self.signed:
            sig = np.empty((len(self.texts), BINS), dtype=np.uint32)
            rest = [i for i in range(len(self.texts)) if i not in self.signed]
            if rest:
                sig[rest] = signatures([self.texts[i] for i in rest])
            for i, row in self.signed.items():
                sig[i] = np.frombuffer(row, dtype=np.uint32)
            self.signatures, self.signed = sig, {}
        else:
            self.signatures = signatures(self.texts)
        self.texts = []


@dataclass
class Sample:
    """The baseline sample of one split: its first documents in input order, as Arrow tables of
    the task configs; :meth:`rows` makes one config's Python rows when they are scored."""

    documents: int
    tables: dict[str, list[pa.Table]]  # config -> the sample's tables, in input order

    def rows(self, config: str, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The sample's rows of ``config`` (ClassLabel columns as names), sorted by document id
        (rows of one document keep their order); only ``columns`` when given (they must include
        ``document_id``). Made anew on each call and not kept: as Python objects a config's
        rows of 1,000 documents take tens of megabytes."""
        tables = self.tables[config]
        if columns is not None:
            tables = [t.select(list(columns)) for t in tables]
        found = [r for t in tables for r in named_rows(config, t)]
        return sorted(found, key=lambda r: r["document_id"])


class Corpus:
    """The whole-corpus aggregates of a build, fed with every batch in input order."""

    def __init__(self, names: Sequence[str], folder: Path, sample: int | None = None) -> None:
        self.names = list(names)
        self.stats = CorpusStats()
        self.agreement = Agreement(lowest=LOWEST)
        self.leakage = LeakageIndex(folder, self.names)
        self.totals: Counter[str] = Counter()  # documents per split
        self.cap = SAMPLE if sample is None else sample
        self._sampled: Counter[str] = Counter()  # documents per split in the sample
        self._sample: dict[str, dict[str, list[pa.Table]]] = {
            n: {c: [] for c in TASKS} for n in self.names
        }

    def batch(self) -> BatchCorpus:
        return BatchCorpus(self.names)

    def add(self, batch: BatchCorpus, tables: Mapping[tuple[str, str], pa.Table]) -> None:
        """Add a batch's aggregates, and to the baseline sample the rows of its documents that
        the sample still wants from ``tables`` (``(config, split) -> table``, as written)."""
        if batch.signatures is None:
            batch.finish()
        assert batch.signatures is not None
        self.stats.update(batch.stats)
        for code in batch.splits:
            self.totals[self.names[code]] += 1
        for d in batch.agreement:
            self.agreement.add(d)
        self.agreement.skip(batch.stats.documents - len(batch.agreement))
        self.leakage.add(batch.ids, bytes(batch.splits), batch.signatures, bytes(batch.sha256))
        for code, name in enumerate(self.names):
            if not self._wanted(name):
                self._sampled[name] = 0
                self._sample[name] = {c: [] for c in TASKS}
                continue
            room = self.cap - self._sampled[name]
            mine = [i for i, c in zip(batch.ids, batch.splits, strict=True) if c == code]
            if room <= 0 or not mine:
                continue
            self._sampled[name] += min(room, len(mine))
            for config in TASKS:
                table = tables.get((config, name))
                if table is None or not table.num_rows:
                    continue
                if room < len(mine):  # the sample fills up in this batch
                    table = table.filter(
                        pc.is_in(table["document_id"], pa.array(mine[:room], pa.string()))
                    )
                self._sample[name][config].append(table)

    def _wanted(self, split: str) -> bool:
        """Baselines are scored on ``test`` when it has documents, else on every split; the
        majority baseline reads ``train``. A split no longer wanted is never wanted again."""
        return split in ("train", "test") or not self.totals["test"]

    def sampled(self) -> dict[str, Sample]:
        """The baseline sample: the first ``cap`` documents of each split."""
        return {
            name: Sample(self._sampled[name], configs) for name, configs in self._sample.items()
        }
