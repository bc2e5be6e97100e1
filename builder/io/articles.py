"""Raw articles: read the scraped text and its metadata sidecar, and clean it.

An article is ``articles/<id>.txt`` (raw scraped text, kept byte for byte) plus
``articles/<id>.json`` (metadata, see ``schema/article.schema.json``). Cleaning rules are data,
per source, in ``articles/sources.json``: lines to drop (regexes), a line to drop after a matching
line unless it ends like a sentence (related-headline teasers under photo captions), and markers
from which everything is cut (comment widgets, trailing UI strings).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack, cast

from ..contracts.schemas import validate_instance
from ..errors import InvalidDataError, Problem, Where
from ..records import Article, ArticleMeta
from .jsonpos import loads
from .storage import ArticleStore, read_file

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
RULES_FILE = "sources.json"


@dataclass(frozen=True)
class CleaningRules:
    drop_lines: tuple[re.Pattern[str], ...]
    drop_line_after: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]
    cut_from: tuple[re.Pattern[str], ...]


def load_rules(path: Path) -> dict[str, CleaningRules]:
    """Read ``sources.json`` into compiled rules, keyed by source name."""
    return _rules(_read_json(path), str(path))


def load_stored_rules(store: ArticleStore) -> dict[str, CleaningRules]:
    """:func:`load_rules` of the ``sources.json`` of ``store``."""
    if store.is_local:
        return load_rules(store.path / RULES_FILE)
    name = store.file(RULES_FILE)
    return _rules(_loads(lambda: store.read_bytes(RULES_FILE), name), name)


def _rules(loaded: object, name: str) -> dict[str, CleaningRules]:
    data = cast("dict[str, Any]", loaded)  # an object: the schema checks it
    validate_instance("sources", data, file=name)
    return {
        source: CleaningRules(
            drop_lines=tuple(re.compile(p) for p in spec.get("drop_lines", [])),
            drop_line_after=tuple(
                (re.compile(r["after"]), re.compile(r["unless"]))
                for r in spec.get("drop_line_after", [])
            ),
            cut_from=tuple(re.compile(p) for p in spec.get("cut_from", [])),
        )
        for source, spec in data.items()
    }


def clean_lines(raw: str, rules: CleaningRules) -> list[tuple[int, str, str]]:
    """Decide, line by line, what survives. Returns ``(line_no, line, verdict)`` for every line.

    ``verdict`` is ``"keep"``, ``"blank"``, ``"cut"`` (at or after a ``cut_from`` marker),
    ``"drop <pattern>"`` or ``"drop after <pattern>"`` naming the rule that removed the line.
    """
    out: list[tuple[int, str, str]] = []
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = False
    previous = ""
    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not cut and any(p.search(stripped) for p in rules.cut_from):
            cut = True
        dropped_by = next((p.pattern for p in rules.drop_lines if p.search(stripped)), None)
        after = next(
            (
                a.pattern
                for a, u in rules.drop_line_after
                if a.search(previous) and not u.search(stripped)
            ),
            None,
        )
        if cut:
            verdict = "cut"
        elif not stripped:
            verdict = "blank"
        elif dropped_by is not None:
            verdict = f"drop {dropped_by}"
        elif after is not None:
            verdict = f"drop after {after}"
        else:
            verdict = "keep"
        out.append((no, line, verdict))
        if stripped:
            previous = stripped
    return out


def clean(raw: str, rules: CleaningRules) -> str:
    """The text annotators see: kept lines, stripped, one blank line between paragraphs.

    The lines :func:`clean_lines` keeps, found without naming the rule that removed a line (this
    runs once per article in a build; ``clean_lines`` is for showing why).
    """
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut_from, drop_lines, drop_after = rules.cut_from, rules.drop_lines, rules.drop_line_after
    if not (cut_from or drop_lines or drop_after):
        return "\n\n".join([s for s in map(str.strip, lines) if s])
    kept: list[str] = []
    previous = ""
    for line in lines:
        stripped = line.strip()
        if cut_from and any(p.search(stripped) for p in cut_from):
            break  # this line and every one after it are cut
        if not stripped:
            continue
        if not (drop_lines and any(p.search(stripped) for p in drop_lines)) and not (
            drop_after and any(a.search(previous) and not u.search(stripped) for a, u in drop_after)
        ):
            kept.append(stripped)
        previous = stripped
    return "\n\n".join(kept)


def read_articles(folder: Path | ArticleStore) -> Iterator[Article]:
    """Yield every article in ``folder`` (sorted by id), cleaned by its source's rules."""
    store = folder if isinstance(folder, ArticleStore) else ArticleStore(folder)
    rules = load_stored_rules(store)
    for name in sorted(store.names()):
        if name != RULES_FILE:
            yield read_stored_article(store, name[:-5], rules)


def read_article(meta_path: Path, rules: dict[str, CleaningRules]) -> Article:
    raw_path = meta_path.with_suffix(".txt")
    return _article(
        _read_json(meta_path),
        str(meta_path),
        meta_path.stem,
        str(raw_path),
        lambda: read_file(str(raw_path)) if raw_path.is_file() else None,
        rules,
    )


def read_stored_article(
    store: ArticleStore, article_id: str, rules: dict[str, CleaningRules]
) -> Article:
    """The article ``<article_id>.json`` (and ``.txt``) of ``store``: :func:`read_article`,
    its files read in place when ``store`` is a URL, with the same checks and messages."""
    if store.is_local:
        return read_article(store.path / f"{article_id}.json", rules)
    name, raw_name = store.file(f"{article_id}.json"), store.file(f"{article_id}.txt")

    def raw() -> bytes | None:
        try:
            return store.read_bytes(f"{article_id}.txt")
        except FileNotFoundError:
            return None

    meta = _loads(lambda: store.read_bytes(f"{article_id}.json"), name)
    return _article(meta, name, article_id, raw_name, raw, rules)


def _article(
    loaded: object,
    name: str,
    stem: str,
    raw_name: str,
    read_raw: Callable[[], bytes | None],
    rules: dict[str, CleaningRules],
) -> Article:
    data = cast("dict[str, Any]", loaded)  # an object: the schema checks it
    validate_instance("article", data, file=name)
    article_id = data["id"]
    check_article_id(article_id, file=name, pointer="/id")
    if article_id != stem:
        raise InvalidDataError(
            Problem(
                "article id does not match the file name",
                file=name,
                pointer="/id",
                expected=repr(stem),
                found=repr(article_id),
                fix=f"rename the file to {article_id}.json or fix the id",
            )
        )
    raw_bytes = read_raw()
    if raw_bytes is None:
        raise InvalidDataError(
            Problem(
                "metadata has no raw text beside it",
                file=name,
                article=article_id,
                expected=f"a file {stem}.txt",
                fix="add the scraped text next to its metadata",
            )
        )
    source = data["source"]
    if source not in rules:
        raise InvalidDataError(
            Problem(
                "no cleaning rules for this source",
                file=name,
                pointer="/source",
                article=article_id,
                expected=f"one of {sorted(rules)}",
                found=repr(source),
                fix=f"add an entry for {source!r} to {RULES_FILE}",
            )
        )
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw_bytes[: exc.start]
        raise InvalidDataError(
            Problem(
                "raw article is not UTF-8",
                file=raw_name,
                line=before.count(b"\n") + 1,
                column=exc.start - (before.rfind(b"\n") + 1) + 1,  # in bytes
                article=article_id,
                found=f"invalid byte at offset {exc.start}",
                fix="re-save the file as UTF-8",
            )
        ) from None
    meta = ArticleMeta(
        source=source,
        title=data["title"],
        language=data["language"],
        license=data["license"],
        url=data.get("url"),
        published=data.get("published"),
        group=data.get("group"),
    )
    return Article(id=article_id, text=clean(raw, rules[source]), meta=meta, path=raw_name)


# Names Windows reserves in any folder, with or without an extension: a file named so cannot be
# created or read back there.
RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


def is_safe_article_id(article_id: object) -> bool:
    """Whether ``article_id`` can only ever name a file inside the articles folder."""
    return (
        isinstance(article_id, str)
        and SAFE_ID.fullmatch(article_id) is not None
        and ".." not in article_id
        and not RESERVED.match(article_id)
        and not article_id.endswith(".")
    )


def check_article_id(article_id: str, **where: Unpack[Where]) -> None:
    """Refuse ids that could name a path outside the output folder (``../x``, ``/etc``, NUL) or a
    reserved device name (``CON``, ``nul.txt``)."""
    if not is_safe_article_id(article_id):
        raise InvalidDataError(
            Problem(
                "unsafe article id",
                expected="letters, digits, '_', '-', '.', not starting or ending with '.', no "
                "'..', not a reserved device name (CON, NUL, COM1...)",
                found=repr(article_id),
                fix="use a plain id such as 001_3f2a9c",
                **where,
            )
        )


def _read_json(path: Path) -> object:
    name = str(path)
    return _loads(lambda: read_file(name), name)


def _loads(read: Callable[[], bytes], name: str) -> object:
    try:
        raw = read()
    except FileNotFoundError:
        raise InvalidDataError(Problem("file not found", file=name)) from None
    return loads(raw, name, fix="fix the JSON syntax at that position")
