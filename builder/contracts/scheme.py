"""Scheme mappings: the names of any Label Studio project onto the claimwire scheme.

A mapping file (``schema/scheme.schema.json``, by default ``annotations/scheme.json``) says which
Text tag and data keys hold the article, what every Labels label, per-region choice value and
relation label of the project becomes (a canonical name or ``"drop"``), and which controls are
dropped whole. It is applied when an export is read (:meth:`Scheme.translate`): nothing past the
reader sees a foreign name. :func:`draft_scheme` writes a first mapping from a labeling config,
deciding what is unambiguous and dropping the rest with a comment.

The shipped labeling config is the identity mapping (:meth:`Scheme.identity`); the reader skips
translation for it, so the shipped path costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from ..errors import InvalidDataError, Problem
from .labels import (
    ATTRIBUTIONS,
    CHOICE_CONTROLS,
    CLAIM_LABELS,
    ENTITY_LABELS,
    PORTRAYALS,
    RELATIONS,
    STANCES,
)
from .schemas import iter_problems, pointer

DROP = "drop"
SCHEMA_URL = "https://claimwire.github.io/schema/scheme.schema.json"
DEFAULT_FILE = Path("annotations") / "scheme.json"  # relative to where claimwire runs
ROLES = tuple(CHOICE_CONTROLS)  # stance, attribution, portrayal
DATA_KEYS = ("article_id", "text_sha256", "title", "url", "published", "source")
DEFAULT_KEYS = ("source", "license", "language")  # the mapping's "defaults" of such an article
_ENTITIES = frozenset(ENTITY_LABELS)
INIT = "`claimwire scheme init`"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a translated task's parts were in the export as written, so that a problem found
    after reading (schema, merge) points at the bytes the user has: canonical data key ->
    the project's key, and for each annotation the original index of every result kept (None:
    the results are where they were)."""

    base: str
    data: tuple[tuple[str, str], ...]
    results: tuple[tuple[int, ...] | None, ...]

    def pointer(self, translated: str) -> str:
        """The pointer in the export as written for ``translated``, a pointer into the
        translated task (pointers outside this task are returned as they are)."""
        if not translated.startswith(self.base + "/"):
            return translated
        parts = translated[len(self.base) :].split("/")
        if len(parts) > 2 and parts[1] == "data":
            original = dict(self.data).get(parts[2])
            if original is not None:
                parts[2] = original.replace("~", "~0").replace("/", "~1")
        elif (
            len(parts) > 4
            and parts[1] == "annotations"
            and parts[3] == "result"
            and parts[2].isdigit()
            and parts[4].isdigit()
        ):
            i, j = int(parts[2]), int(parts[4])
            kept = self.results[i] if i < len(self.results) else None
            if kept is not None and j < len(kept):
                parts[4] = str(kept[j])
        return self.base + "/".join(parts)


@dataclass(frozen=True)
class Translated:
    """A task in canonical names, where its parts came from, and the regions dropped."""

    task: dict[str, Any]
    origin: Origin | None
    dropped: tuple[tuple[str, str, int], ...]  # (control, label, regions), in first-seen order


@dataclass(frozen=True)
class Scheme:
    """A mapping from a project's names to the canonical ones (see the module docstring)."""

    text_tag: str
    text_key: str
    data: dict[str, str | None]  # canonical data key -> the project's key (None: none)
    spans: dict[str, dict[str, str]]  # Labels control -> label -> canonical label or drop
    choices: dict[str, tuple[str, dict[str, str]]]  # control -> (role, value -> value or drop)
    relations: dict[str, str]  # relation label ("" : none) -> claimer, target or drop
    drop: dict[str, str]  # control -> why its results are dropped
    file: str | None = field(default=None, compare=False)
    # metadata of the articles made from their tasks (builder.io.task_articles): source,
    # license, language. None: a task whose article has no file in articles/ is an error.
    defaults: dict[str, str] | None = None

    @classmethod
    def identity(cls) -> Scheme:
        """The mapping of the shipped labeling config onto itself."""
        return cls(
            text_tag="text",
            text_key="text",
            data={k: k for k in DATA_KEYS},
            spans={"entity": _same(ENTITY_LABELS), "claim": _same(CLAIM_LABELS)},
            choices={role: (role, _same(values)) for role, values in CHOICE_CONTROLS.items()},
            relations=_same(RELATIONS),
            drop={},
        )

    @cached_property
    def is_identity(self) -> bool:
        """Whether translating changes nothing (the reader then skips it). The ``defaults``
        translate nothing: they are not compared."""
        return replace(self, defaults=None) == Scheme.identity()

    # --- reading and writing ------------------------------------------------------------------

    @classmethod
    def from_json(cls, doc: Any, file: str | None = None) -> Scheme:
        """A scheme from a parsed mapping file, checked against its schema."""
        problems = [p.located(file=file) for p in iter_problems("scheme", doc)]
        if problems:
            raise InvalidDataError(
                [
                    p.located(fix=f"correct the mapping file, or write one with {INIT}")
                    for p in problems
                ]
            )
        owner: dict[str, str] = {}
        for section in ("spans", "choices", "drop"):
            for control in doc.get(section, {}):
                if control in owner:
                    raise InvalidDataError(
                        Problem(
                            f"control {control!r} is listed in both {owner[control]!r} and "
                            f"{section!r}",
                            file=file,
                            pointer=pointer([section, control]),
                            fix="keep it in one section: spans (Labels), choices (per-region "
                            "Choices) or drop",
                        )
                    )
                owner[control] = section
        data = {k: _key(v) for k, v in doc["data"].items() if k != "comment"}
        return cls(
            text_tag=doc["text"]["tag"],
            text_key=doc["text"]["data_key"],
            data={k: data.get(k) for k in DATA_KEYS},
            spans={c: _decisions(v["labels"]) for c, v in doc["spans"].items()},
            choices={c: (v["role"], _decisions(v["values"])) for c, v in doc["choices"].items()},
            relations=_decisions(doc["relations"]),
            drop=dict(doc.get("drop", {})),
            file=file,
            defaults=_defaults(doc["defaults"]) if "defaults" in doc else None,
        )

    def reverse(self, declared: Declared | None = None) -> Reverse:
        """The mapping read backwards, from canonical names into the project's: for pushing
        a release into the project (see :class:`Reverse`). ``declared``: the names of the
        project's labeling config, preferred where the mapping gives several for one canonical
        name (exports from before and after a config change); without it, the first listed."""
        span_candidates: dict[str, list[tuple[str, str]]] = {}
        for control, labels in self.spans.items():
            for name, to in labels.items():
                if to != DROP:
                    span_candidates.setdefault(to, []).append((control, name))
        choice_candidates: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for control, (role, values) in self.choices.items():
            for name, to in values.items():
                if to != DROP:
                    choice_candidates.setdefault((role, to), []).append((control, name))
        relation_candidates: dict[str, list[str]] = {}
        for name, to in self.relations.items():
            if to != DROP:
                relation_candidates.setdefault(to, []).append(name)
        names = declared.names if declared is not None else None
        why: dict[tuple[str, str], str] = {}
        spans: dict[str, tuple[str, str]] = {}
        for label in (*ENTITY_LABELS, *CLAIM_LABELS):
            chosen, reason = _choose(span_candidates.get(label, []), names)
            if chosen is None:
                why[("label", label)] = reason
            else:
                spans[label] = chosen
        choices: dict[tuple[str, str], tuple[str, str]] = {}
        for role, canonical in CHOICE_CONTROLS.items():
            for value in canonical:
                chosen, reason = _choose(choice_candidates.get((role, value), []), names)
                if chosen is None:
                    why[(f"{role} value", value)] = reason
                else:
                    choices[(role, value)] = chosen
        relations: dict[str, str] = {}
        said = declared.relations | {""} if declared is not None else None
        for relation in RELATIONS:
            chosen, reason = _choose(relation_candidates.get(relation, []), said)
            if chosen is None:
                why[("relation", relation)] = reason
            else:
                relations[relation] = chosen
        data = (("text", self.text_key), *((k, v) for k, v in self.data.items() if v is not None))
        return Reverse(self.text_tag, data, spans, choices, relations, why, self.file)

    # --- translation ----------------------------------------------------------------------------

    def translate(
        self, task: dict[str, Any], base: str = "", predictions: bool = False
    ) -> Translated:
        """``task`` (a parsed Label Studio task) in canonical names.

        Data keys are renamed (only the canonical keys are kept); each annotation's results get
        canonical from_name, to_name, labels, choices and relation labels (with ``predictions``,
        the predictions' results too). A region whose labels all map to drop, or that belongs to
        a dropped control, goes with its per-region choices and the relations that touch it.
        Anything the exports use that the mapping does not list is an :class:`InvalidDataError`
        at the first such result (pointer, control, value and the fix; the caller adds the file).
        Malformed parts are left as they are, for the task schema to report."""
        task_id = task.get("id") if isinstance(task.get("id"), int) else None
        out = dict(task)
        moved: list[tuple[str, str]] = []
        data = task.get("data")
        if isinstance(data, dict):
            out["data"] = self._data(data, base, task_id, moved)
        counts: dict[tuple[str, str], int] = {}
        kept: list[tuple[int, ...] | None] = []
        annotations = task.get("annotations")
        if isinstance(annotations, list):
            out["annotations"] = [
                self._annotation(a, f"{base}/annotations/{i}", task_id, counts, kept)
                for i, a in enumerate(annotations)
            ]
        preds = task.get("predictions")
        if predictions and isinstance(preds, list):
            out["predictions"] = [
                self._annotation(a, f"{base}/predictions/{i}", task_id, {}, [])
                for i, a in enumerate(preds)
            ]
        origin = None
        if moved or any(k is not None for k in kept):
            origin = Origin(base, tuple(moved), tuple(kept))
        return Translated(out, origin, tuple((c, lab, n) for (c, lab), n in counts.items()))

    def _data(
        self, data: dict[str, Any], base: str, task_id: int | None, moved: list[tuple[str, str]]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for canonical, key in (("text", self.text_key), *self.data.items()):
            if key is None:
                continue
            if key in data:
                out[canonical] = data[key]
                if key != canonical:
                    moved.append((canonical, key))
            elif canonical in ("text", "article_id"):
                what = "text key" if canonical == "text" else "article id key"
                entry = "text.data_key" if canonical == "text" else "data.article_id"
                raise InvalidDataError(
                    Problem(
                        f"task data has no {key!r} (the scheme's {what})",
                        task=task_id,
                        pointer=f"{base}/data",
                        expected=f"a data key {key!r}",
                        found="keys " + ", ".join(map(repr, data)) if data else "no keys",
                        fix=f"set {entry} in {self._name()} to the key your tasks use",
                    )
                )
        return out

    def _annotation(
        self,
        annotation: Any,
        where: str,
        task_id: int | None,
        counts: dict[tuple[str, str], int],
        kept: list[tuple[int, ...] | None],
    ) -> Any:
        results = annotation.get("result") if isinstance(annotation, dict) else None
        if not isinstance(results, list):
            kept.append(None)
            return annotation
        new, indices = self._results(results, f"{where}/result", task_id, counts)
        kept.append(None if len(indices) == len(results) else tuple(indices))
        return {**annotation, "result": new}

    def _results(
        self,
        results: list[Any],
        where: str,
        task_id: int | None,
        counts: dict[tuple[str, str], int],
    ) -> tuple[list[Any], list[int]]:
        """The translated results, and the original index of each."""
        out: list[tuple[int, Any]] = []
        later: list[tuple[int, Any, tuple[Any, ...]]] = []  # choices and relations: need regions
        gone: set[str] = set()  # ids of dropped regions

        def dropped(r: dict[str, Any], control: str, labels: Any) -> None:
            rid = r.get("id")
            if isinstance(rid, str):
                gone.add(rid)
            label = labels[0] if isinstance(labels, list) and labels else ""
            key = (control, label if isinstance(label, str) else repr(label))
            counts[key] = counts.get(key, 0) + 1

        for j, r in enumerate(results):
            at = f"{where}/{j}"
            if not isinstance(r, dict):
                out.append((j, r))
                continue
            kind = r.get("type")
            if kind == "relation":
                new = self._relation(r, at, task_id)
                if new is not None:
                    later.append((j, new, (r.get("from_id"), r.get("to_id"))))
                continue
            control = r.get("from_name")
            if not isinstance(control, str):
                out.append((j, r))
                continue
            value: Any = r.get("value")
            if control in self.drop:
                if isinstance(kind, str) and kind.endswith("labels"):
                    dropped(r, control, value.get(kind) if isinstance(value, dict) else None)
                continue
            span = self.spans.get(control)
            choice = self.choices.get(control)
            if span is None and choice is None:
                raise self._mismatch(
                    f"control {control!r} is not in the scheme",
                    at + "/from_name",
                    task_id,
                    found=repr(control),
                    expected="a control listed under spans, choices or drop",
                    entry=f'"{control}" under "spans" (a Labels control), "choices" (per-region '
                    f'Choices) or "drop"',
                )
            if r.get("to_name") != self.text_tag:
                raise self._mismatch(
                    f"control {control!r} labels tag {r.get('to_name')!r}, not the scheme's "
                    f"text tag {self.text_tag!r}",
                    at + "/to_name",
                    task_id,
                    found=repr(r.get("to_name")),
                    expected=repr(self.text_tag),
                    entry=f'"{control}" under "drop", or the right text.tag',
                )
            if span is not None:
                labels = value.get("labels") if isinstance(value, dict) else None
                targets = self._map(span, labels, at + "/value/labels", task_id, control, "label")
                if targets is None:  # malformed: for the task schema
                    out.append((j, r))
                elif not targets:
                    dropped(r, control, labels)
                else:
                    kind_name = "entity" if targets[0] in _ENTITIES else "claim"
                    new = {**r, "from_name": kind_name, "to_name": "text"}
                    new["value"] = {**value, "labels": targets}
                    out.append((j, new))
                continue
            assert choice is not None
            role, values = choice
            chosen = value.get("choices") if isinstance(value, dict) else None
            targets = self._map(values, chosen, at + "/value/choices", task_id, control, "value")
            if targets is None:
                out.append((j, r))
            elif targets:
                new = {**r, "from_name": role, "to_name": "text"}
                new["value"] = {**value, "choices": targets}
                later.append((j, new, (r.get("id"),)))
        for j, new, ends in later:
            if not any(isinstance(e, str) and e in gone for e in ends):
                out.append((j, new))
        out.sort(key=lambda item: item[0])
        return [r for _, r in out], [j for j, _ in out]

    def _relation(self, r: dict[str, Any], at: str, task_id: int | None) -> dict[str, Any] | None:
        labels = r.get("labels", [])
        if labels == []:
            target = self.relations.get("")
            if target is None:
                raise self._mismatch(
                    "relation has no label and the scheme does not say what an unlabeled "
                    "relation is",
                    at,
                    task_id,
                    found="labels []",
                    expected="a relation label the scheme maps",
                    entry='"": "drop" (or "claimer" / "target") under "relations"',
                )
            return None if target == DROP else {**r, "labels": [target]}
        targets = self._map(self.relations, labels, at + "/labels", task_id, None, "relation label")
        if targets is None:
            return r
        return {**r, "labels": targets} if targets else None

    def _map(
        self,
        table: Mapping[str, str],
        names: Any,
        at: str,
        task_id: int | None,
        control: str | None,
        what: str,
    ) -> list[str] | None:
        """Canonical names for ``names`` (drops left out, duplicates merged); None when
        ``names`` is not a non-empty list of strings."""
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            return None
        out: list[str] = []
        for k, name in enumerate(names):
            target = table.get(name)
            if target is None:
                of = f" of control {control!r}" if control is not None else ""
                section = (
                    f'under "spans" > "{control}" > "labels"'
                    if what == "label"
                    else f'under "choices" > "{control}" > "values"'
                    if what == "value"
                    else 'under "relations"'
                )
                known = ", ".join(map(repr, table)) or "none"
                listed = f" for {control!r}" if control is not None else ""
                raise self._mismatch(
                    f"{what} {name!r}{of} is not in the scheme",
                    f"{at}/{k}",
                    task_id,
                    found=repr(name),
                    expected=f"one of the {what}s the scheme lists{listed}: {known}",
                    entry=f'"{name}": "<canonical name or drop>" {section}',
                )
            if target != DROP and target not in out:
                out.append(target)
        return out

    def _name(self) -> str:
        return self.file or "the scheme file"

    def _mismatch(
        self, message: str, at: str, task_id: int | None, found: str, expected: str, entry: str
    ) -> InvalidDataError:
        return InvalidDataError(
            Problem(
                message,
                task=task_id,
                pointer=at,
                expected=expected,
                found=found,
                fix=f"run {INIT} again for the project's current labeling config, or add "
                f"{entry} in {self._name()}",
            )
        )


def _same(names: Iterable[str]) -> dict[str, str]:
    return {n: n for n in names}


def _key(value: Any) -> str | None:
    key = value.get("key") if isinstance(value, dict) else value
    return key if isinstance(key, str) else None


def _defaults(entries: dict[str, Any]) -> dict[str, str]:
    return {k: entries[k] for k in DEFAULT_KEYS if k in entries}


def _decisions(entries: dict[str, Any]) -> dict[str, str]:
    return {k: v["to"] if isinstance(v, dict) else v for k, v in entries.items()}


def load_scheme(path: Path) -> Scheme:
    """The mapping file at ``path``, checked."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidDataError(
            Problem(
                f"cannot read the scheme mapping: {exc.strerror or exc}",
                file=str(path),
                fix=f"write one with {INIT} --from CONFIG.xml --out {path}",
            )
        ) from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidDataError(
            Problem(f"the scheme mapping is not JSON: {exc.msg}", file=str(path))
        ) from None
    return Scheme.from_json(doc, str(path))


# --- drafting a mapping from a labeling config ------------------------------------------------

ENTITY_SPELLINGS = {
    **dict.fromkeys(("per", "person", "people"), "PER"),
    **dict.fromkeys(("org", "organization", "organisation", "company"), "ORG"),
    **dict.fromkeys(("gpe", "country", "city"), "GPE"),
    **dict.fromkeys(("loc", "location"), "LOC"),
    **dict.fromkeys(("norp", "nationality"), "NORP"),
    "event": "EVENT",
}
RELATION_SPELLINGS = {
    **dict.fromkeys(
        ("claimer", "said_by", "says", "speaker", "source", "attributed_to"), "claimer"
    ),
    **dict.fromkeys(("target", "about", "object", "subject", "mentions"), "target"),
}
ROLE_SPELLINGS = {
    **dict.fromkeys(("stance", "claim_stance", "position"), "stance"),
    **dict.fromkeys(("attribution", "voice", "source_type", "attributed"), "attribution"),
    "portrayal": "portrayal",
}
VALUE_SPELLINGS = {
    "stance": {
        **dict.fromkeys(("favor", "for", "support", "supports", "pro", "positive"), "FAVOR"),
        **dict.fromkeys(("against", "oppose", "opposes", "con", "negative"), "AGAINST"),
        **dict.fromkeys(("neutral", "none", "unclear"), "NEUTRAL"),
    },
    "attribution": {
        **dict.fromkeys(("reported", "quoted", "attributed", "third_party"), "REPORTED"),
        **dict.fromkeys(("author", "own", "outlet", "editorial"), "AUTHOR"),
    },
    "portrayal": {"positive": "POSITIVE", "negative": "NEGATIVE", "neutral": "NEUTRAL"},
}
DATA_SPELLINGS = {
    "article_id": ("article_id", "doc_id", "document_id", "article"),
    "text_sha256": ("text_sha256", "sha256"),
    "title": ("title", "headline"),
    "url": ("url", "link"),
    "published": ("published", "published_at", "date", "pubdate"),
    "source": ("source", "outlet", "publisher"),
}
assert set(VALUE_SPELLINGS) == set(ROLES) and set(DATA_SPELLINGS) == set(DATA_KEYS)
assert {v for v in ENTITY_SPELLINGS.values()} == set(ENTITY_LABELS)
assert set(VALUE_SPELLINGS["stance"].values()) == set(STANCES)
assert set(VALUE_SPELLINGS["attribution"].values()) == set(ATTRIBUTIONS)
assert set(VALUE_SPELLINGS["portrayal"].values()) == set(PORTRAYALS)


def spelling(name: str) -> str:
    """``name`` with case and ``-`` / ``_`` / spaces made alike: ``Said-By`` -> ``said_by``."""
    return re.sub(r"[-_\s]+", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class Decision:
    """One line of what :func:`draft_scheme` decided."""

    what: str  # text, data, label, choice, relation, control
    control: str
    name: str
    to: str  # a canonical name, or drop
    comment: str = ""


@dataclass(frozen=True)
class Draft:
    """A mapping file drafted from a labeling config: the JSON document and each decision."""

    document: dict[str, Any]
    decisions: tuple[Decision, ...]

    @property
    def scheme(self) -> Scheme:
        return Scheme.from_json(self.document)

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """The decisions as table rows: what, control, name, becomes, why (mapped first)."""
        ordered = sorted(self.decisions, key=lambda d: d.to == DROP)
        return [(d.what, d.control, d.name, d.to, d.comment) for d in ordered]


@dataclass
class _Outline:
    texts: list[tuple[str, str]]  # (Text tag name, data key)
    controls: list[Any]  # elements with a toName
    relations: list[str]
    has_relations: bool
    variables: list[str]  # every $name the config refers to


def _outline(xml: str, file: str) -> _Outline:
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml raises several types; all mean "not a config"
        raise InvalidDataError(
            Problem(f"labeling config is not safe, well-formed XML: {exc}", file=file)
        ) from None
    texts, controls, variables = [], [], []
    for el in root.iter():
        for value in el.attrib.values():
            if value.startswith("$") and value[1:] not in variables:
                variables.append(value[1:])
        if el.tag == "Text" and el.get("name") and el.get("value", "").startswith("$"):
            texts.append((el.get("name"), el.get("value")[1:]))
        elif el.get("name") and el.get("toName"):
            controls.append(el)
    relations = [r.get("value", "") for r in root.iter("Relation") if r.get("value")]
    has_relations = next(root.iter("Relations"), None) is not None
    return _Outline(texts, controls, relations, has_relations, variables)


def _names(el: Any, child: str) -> list[tuple[str, str]]:
    """The names results use for an element's children, each with the name its decision is
    taken from: the value, and the alias (when set), which is decided as its value."""
    out: dict[str, str] = {}
    for c in el.iter(child):
        value = c.get("value")
        if value:
            out.setdefault(value, value)
            if c.get("alias"):
                out.setdefault(c.get("alias"), value)
    return list(out.items())


def _entry(to: str, comment: str) -> Any:
    return {"to": to, "comment": comment} if comment else to


def draft_scheme(
    xml: str,
    file: str = "<labeling config>",
    data_keys: Iterable[str] = (),
    project: str | None = None,
) -> Draft:
    """A mapping for a labeling config: every spelling this module knows is mapped, everything
    else is an explicit drop with a comment saying why (edit the file to keep it).

    ``data_keys``: the data keys the project's tasks hold (``--from-project`` reads them), looked
    at after the config's ``$variables`` for the article id, title and the other data keys: a
    config need not show the article id for its key to be found.

    The ``defaults`` of the articles made from their tasks are written without a licence, which
    only the team can say (the build asks for it); ``project`` (its title) is the default
    source."""
    outline = _outline(xml, file)
    decisions: list[Decision] = []
    if not outline.texts:
        raise InvalidDataError(
            Problem(
                "the labeling config has no Text tag reading a data key",
                file=file,
                expected='<Text name="..." value="$..."/>',
                fix="claimwire reads spans drawn on text: a project without a Text tag cannot "
                "be mapped",
            )
        )
    targets: dict[str, int] = {}
    for el in outline.controls:
        if el.tag == "Labels":
            for t in el.get("toName", "").split(","):
                targets[t.strip()] = targets.get(t.strip(), 0) + 1
    tag, key = max(outline.texts, key=lambda t: targets.get(t[0], 0))
    text: dict[str, Any] = {"tag": tag, "data_key": key}
    if len(outline.texts) > 1:
        others = ", ".join(t for t, _ in outline.texts if t != tag)
        text["comment"] = (
            f"the config has other Text tags ({others}); {tag!r} holds the most Labels "
            "controls: change it if the article is another"
        )
    decisions.append(Decision("text", tag, f"${key}", "text", text.get("comment", "")))

    data: dict[str, Any] = {}
    known = [*outline.variables, *(k for k in data_keys if k not in outline.variables)]
    for canonical, spellings in DATA_SPELLINGS.items():
        found = next((v for v in known if v != key and spelling(v) in spellings), None)
        if found is not None:
            data[canonical] = found
            decisions.append(Decision("data", "", f"${found}", canonical))
        elif canonical == "article_id":
            why = (
                "the config does not show the article id: the tasks are assumed to carry it as "
                "data.article_id; change it if they use another key"
            )
            data[canonical] = {"key": canonical, "comment": why}
            decisions.append(Decision("data", "", "$article_id", canonical, why))
        else:
            data[canonical] = canonical
    data["comment"] = (
        "data keys the labeling config does not show are assumed to have their canonical names "
        "(null: the tasks have no such key)"
    )

    spans: dict[str, Any] = {}
    choices: dict[str, Any] = {}
    drop: dict[str, str] = {}
    for el in outline.controls:
        name = el.get("name")
        on = [t.strip() for t in el.get("toName", "").split(",")]
        if el.tag not in ("Labels", "Choices"):
            why = f"{el.tag} control: no place in the scheme"
        elif tag not in on:
            why = f"{el.tag} on {', '.join(on)}, not on the article text ({tag})"
        elif el.tag == "Labels":
            spans[name] = {"labels": _span_labels(name, _names(el, "Label"), decisions)}
            continue
        elif el.get("perRegion", "").lower() != "true":
            why = "document-level Choices (not perRegion): no place in the scheme"
        elif (role := ROLE_SPELLINGS.get(spelling(name))) is None:
            why = (
                "per-region Choices not recognised as stance, attribution or portrayal: to "
                'keep it, move it under "choices" with a role and its values'
            )
        else:
            choices[name] = {
                "role": role,
                "values": _choice_values(name, role, _names(el, "Choice"), decisions),
            }
            continue
        drop[name] = why
        decisions.append(Decision("control", name, "", DROP, why))

    relations: dict[str, Any] = {}
    for label in outline.relations:
        to = RELATION_SPELLINGS.get(spelling(label))
        why = "" if to else "not a known spelling of claimer or target"
        relations[label] = _entry(to or DROP, why)
        decisions.append(Decision("relation", "", label, to or DROP, why))
    if outline.has_relations and not outline.relations:
        why = "the config's relations have no labels: claimer and target cannot be told apart"
        relations[""] = _entry(DROP, why)
        decisions.append(Decision("relation", "", "(no label)", DROP, why))

    document = {
        "$schema": SCHEMA_URL,
        "comment": f"drafted by {INIT} from {file}. Every control, label, choice value and "
        'relation label the exports use must be listed: mapped to a canonical name or "drop".',
        "text": text,
        "data": data,
        "defaults": {
            "comment": DEFAULTS_COMMENT,
            "source": project or "unknown",
            "language": "en",
        },
        "spans": spans,
        "choices": choices,
        "relations": relations,
        "drop": drop,
    }
    Scheme.from_json(document, file)  # what was drafted is a valid mapping
    return Draft(document, tuple(decisions))


DEFAULTS_COMMENT = (
    "a task whose article has no file in articles/ is its own article: its text as imported, "
    "title, url, published and source from the data keys above, and these defaults (source "
    'when the tasks carry none). Set "license" to the licence of the texts (such as '
    '"CC BY 4.0"): the build refuses those articles without one, since the card and '
    "ATTRIBUTION.md credit each text under it"
)


def _span_labels(
    control: str, labels: Iterable[tuple[str, str]], decisions: list[Decision]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, value in labels:
        s = spelling(value)
        to = ENTITY_SPELLINGS.get(s) or ("CLAIM" if "claim" in s else None)
        if to is not None:
            why = ""
        elif s == "misc":
            why = "MISC has no canonical entity type"
        else:
            why = "not a known spelling of PER, ORG, GPE, LOC, NORP, EVENT or CLAIM"
        out[label] = _entry(to or DROP, why)
        decisions.append(Decision("label", control, label, to or DROP, why))
    return out


def _choice_values(
    control: str, role: str, values: Iterable[tuple[str, str]], decisions: list[Decision]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    canonical = ", ".join(dict.fromkeys(VALUE_SPELLINGS[role].values()))
    for name, value in values:
        to = VALUE_SPELLINGS[role].get(spelling(value))
        why = "" if to else f"not a known spelling of {canonical}"
        out[name] = _entry(to or DROP, why)
        decisions.append(Decision("choice", control, name, to or DROP, why))
    return out


# --- back into the project's names ------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """The names a labeling config declares, as results use them: Text tags, (control, name)
    of every Label and Choice (its value, and its alias when set), relation labels."""

    texts: frozenset[str]
    names: frozenset[tuple[str, str]]
    relations: frozenset[str]

    @classmethod
    def of(cls, xml: str, file: str = "<labeling config>") -> Declared:
        outline = _outline(xml, file)
        names = {
            (el.get("name"), name)
            for el in outline.controls
            for child in ("Label", "Choice")
            for name, _ in _names(el, child)
        }
        return cls(
            frozenset(t for t, _ in outline.texts), frozenset(names), frozenset(outline.relations)
        )


@dataclass(frozen=True)
class Reverse:
    """Canonical names back into a project's names (:meth:`Scheme.reverse`): what pushing a
    release into the team's project writes. Each canonical name goes to one of the project's
    names: where the mapping gives several, the first one the project's labeling config
    declares (without a config, the first one listed in the mapping file); none: the name has
    no place in the project (``why``)."""

    text_tag: str
    data: tuple[tuple[str, str], ...]  # canonical data key -> the project's key
    spans: dict[str, tuple[str, str]]  # canonical label -> (Labels control, label)
    choices: dict[tuple[str, str], tuple[str, str]]  # (role, value) -> (Choices control, value)
    relations: dict[str, str]  # claimer / target -> relation label ("": none)
    why: dict[tuple[str, str], str]  # (what, canonical name) with no place -> why
    file: str | None = None

    def data_key(self, canonical: str) -> str | None:
        """The project's data key for a canonical one (None: the mapping names none)."""
        return dict(self.data).get(canonical)

    def tasks(
        self, tasks: Iterable[dict[str, Any]], nothing: str = "nothing was pushed"
    ) -> list[dict[str, Any]]:
        """Import tasks in canonical names (data, annotations' and predictions' results), in
        the project's names. A canonical name the project has no place for (a label the
        mapping drops, a relation or choice it does not map back) stops it before anything is
        sent: one :class:`InvalidDataError` naming every such name with its count and the fix
        (``nothing``: what the fix says was not done). Leaving those regions out instead would
        put an incomplete annotation into the project, and the next pull would build without
        them."""
        missing: dict[tuple[str, str], int] = {}
        out = [self._task(t, missing) for t in tasks]
        self.refuse(missing, nothing)
        return out

    def refuse(
        self, missing: dict[tuple[str, str], int], nothing: str = "nothing was pushed"
    ) -> None:
        """The :class:`InvalidDataError` of :meth:`tasks` for the names :meth:`results` counted
        in ``missing``, if any."""
        if missing:
            raise InvalidDataError([self._missing(k, n, nothing) for k, n in missing.items()])

    def _task(self, task: dict[str, Any], missing: dict[tuple[str, str], int]) -> dict[str, Any]:
        out = dict(task)
        data = task.get("data", {})
        out["data"] = {
            key: data[canonical]
            for canonical, key in self.data
            if canonical in data and data[canonical] is not None
        }
        for kind in ("annotations", "predictions"):
            if kind in task:
                out[kind] = [
                    {**a, "result": self.results(a.get("result", []), missing)} for a in task[kind]
                ]
        return out

    def results(
        self, results: Iterable[dict[str, Any]], missing: dict[tuple[str, str], int]
    ) -> list[dict[str, Any]]:
        """Label Studio results in canonical names, in the project's names; a name with no
        place is counted in ``missing`` and its result left as it is."""
        out: list[dict[str, Any]] = []
        for r in results:
            kind = r.get("type")
            if kind == "relation":
                labels = r.get("labels") or []
                new = [self.relations.get(x) for x in labels]
                for x, y in zip(labels, new, strict=True):
                    if y is None:
                        missing[("relation", x)] = missing.get(("relation", x), 0) + 1
                if all(y is not None for y in new):
                    r = {**r, "labels": [y for y in new if y]}
                out.append(r)
                continue
            value = r.get("value", {})
            if kind == "labels":
                places = [(x, self.spans.get(x)) for x in value.get("labels", [])]
                key, what = "labels", "label"
            else:
                role = r.get("from_name", "")
                places = [(x, self.choices.get((role, x))) for x in value.get("choices", [])]
                key, what = "choices", f"{role} value"
            for x, place in places:
                if place is None:
                    missing[(what, x)] = missing.get((what, x), 0) + 1
            found = [p for _, p in places if p is not None]
            if found and len(found) == len(places):
                control = found[0][0]
                new_value = {**value, key: [name for _, name in found]}
                r = {**r, "from_name": control, "to_name": self.text_tag, "value": new_value}
            out.append(r)
        return out

    def _missing(self, key: tuple[str, str], n: int, nothing: str) -> Problem:
        what, name = key
        name_of = self.file or "the scheme mapping"
        if what == "label":
            where = '"spans" > "<control>" > "labels"'
        elif what == "relation":
            where = '"relations"'
        else:
            where = '"choices" > "<control>" > "values"'
        return Problem(
            f"{n} result(s) with the {what} {name!r} have no place in the project: "
            f"{self.why.get(key, 'the scheme mapping maps no name of the project to it')}",
            file=self.file,
            expected=f"a name of the project mapped to {name!r}",
            found=f"no such entry in {name_of}",
            fix=f'add the project\'s name for it under {where} ("<its name>": "{name}") in '
            f"{name_of}, and to the project's labeling config if it lacks one; {nothing}",
        )


def _choose(candidates: list[Any], declared: frozenset[Any] | None) -> tuple[Any | None, str]:
    """The first candidate the config declares (the first listed without a config), and why
    there is none."""
    if not candidates:
        return None, "the scheme mapping maps no name of the project to it (or drops them all)"
    if declared is None:
        return candidates[0], ""
    chosen = next((c for c in candidates if c in declared), None)
    if chosen is None:
        listed = ", ".join(repr(c[1] if isinstance(c, tuple) else c) for c in candidates)
        return (
            None,
            f"the project's labeling config declares none of its names in the mapping ({listed})",
        )
    return chosen, ""
