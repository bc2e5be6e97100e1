"""A wire service's project that is not ours: its labeling config, its raw articles as the wire
gave them (CRLF, trailing spaces, a no-break space, boilerplate lines the cleaner drops, an
emoji), their metadata and cleaning rules, and what its annotators drew, in its own names.

Spans are written by surface text and occurrence in the cleaned article (what the release
holds); :func:`raw_span` finds the same characters in the raw text the project imported, by
matching the cleaned paragraphs to the raw lines they come from (independently of the builder's
re-anchoring, which the tests check against it)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WIRE_CONFIG = """\
<View>
  <Header value="$headline"/>
  <Text name="story" value="$body"/>
  <Labels name="mentions" toName="story">
    <Label value="PERSON"/>
    <Label value="ORGANIZATION"/>
    <Label value="LOCATION"/>
    <Label value="MISC"/>
  </Labels>
  <Labels name="assertion" toName="story">
    <Label value="Claim"/>
  </Labels>
  <Relations>
    <Relation value="said_by"/>
    <Relation value="about"/>
  </Relations>
  <Choices name="position" toName="story" perRegion="true">
    <Choice value="Pro"/>
    <Choice value="Con"/>
    <Choice value="Unclear"/>
  </Choices>
  <Choices name="voice" toName="story" perRegion="true">
    <Choice value="Quoted"/>
    <Choice value="Own"/>
  </Choices>
  <Choices name="topic" toName="story">
    <Choice value="Politics"/>
    <Choice value="Economy"/>
  </Choices>
</View>
"""

# the project's names -> claimwire's, as `claimwire scheme init` should map them
LABELS = {"PERSON": "PER", "ORGANIZATION": "ORG", "LOCATION": "LOC"}
STANCES = {"Pro": "FAVOR", "Con": "AGAINST", "Unclear": "NEUTRAL"}
VOICES = {"Quoted": "REPORTED", "Own": "AUTHOR"}

SOURCES = {
    "Northwire": {"drop_lines": ["^ADVERTISEMENT$", r"^\(c\) \d{4} Northwire\b"]},
    "Coastal Gazette": {
        "drop_lines": ["^Reprinted with permission from Northwire$", "^Subscribe to the Coastal"]
    },
}

HARBOUR = (
    "PORTO ALEGRE, March 1 (Northwire) - Mayor Ana Ribeiro said on Friday that the new harbour "
    "plan will create 4,000\u00a0jobs.   \r\n"
    "  \r\n"
    "The opposition leader Carlos Mendes said the city council ignored residents. "
    "\U0001f30a\r\n"
    "\r\n"
    "ADVERTISEMENT\r\n"
    "\r\n"
    "The plan is the largest public works project in the city's history.\t \r\n"
    "\r\n"
    "Greenfield Logistics, which won the contract, said the work would start in May.\r\n"
    "\r\n"
    "\r\n"
    "(c) 2024 Northwire. All rights reserved.\r\n"
)
_SANTOS = (
    "SANTOS, Brazil, March 5 (Northwire) - Dock workers at the port of Santos began a 48-hour "
    "strike on Tuesday, union leader Marta Lima said.{eol}{eol}"
    "Lima said the stoppage would continue until wages rise. The Santos Port Authority said the "
    "strike was illegal and would cost exporters millions.{eol}{eol}"
)
SANTOS_WIRE = (
    _SANTOS.format(eol="\r\n")
    + "ADVERTISEMENT\r\n\r\nShipping agents said about 30 vessels were waiting to dock. \r\n"
    "(c) 2024 Northwire. All rights reserved.\r\n"
)
SANTOS_COPY = (
    "Reprinted with permission from Northwire\n\n"
    + _SANTOS.format(eol="\n")
    + "Shipping agents said about 30 vessels were waiting to dock.\n\n"
    "Subscribe to the Coastal Gazette for daily port news.\n"
)


@dataclass(frozen=True)
class Claim:
    text: str
    position: str | None  # None: the annotator forgot it (a slip)
    voice: str
    said_by: str | None = None  # entity key
    about: tuple[str, ...] = ()
    backwards: bool = False  # relations drawn from the entity to the claim


@dataclass(frozen=True)
class Article:
    id: str
    source: str
    title: str
    raw: str
    entities: dict[str, tuple[str, str, int]]  # key -> (surface, label, occurrence)
    claims: dict[str, Claim]
    topic: str
    group: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


ARTICLES = [
    Article(
        "nw-2024-03-01-harbour",
        "Northwire",
        "Porto Alegre harbour plan divides city",
        HARBOUR,
        {
            "porto": ("PORTO ALEGRE", "LOCATION", 0),
            "nw": ("Northwire", "ORGANIZATION", 0),
            "ana": ("Ana Ribeiro", "PERSON", 0),
            "plan": ("harbour plan", "MISC", 0),  # no place in claimwire's scheme
            "carlos": ("Carlos Mendes", "PERSON", 0),
            "council": ("city council", "ORGANIZATION", 0),
            "green": ("Greenfield Logistics", "ORGANIZATION", 0),
        },
        {
            "jobs": Claim(
                "the new harbour plan will create 4,000\u00a0jobs",
                "Pro",
                "Quoted",
                said_by="ana",
                about=("plan",),
            ),
            "ignored": Claim(
                "the city council ignored residents",
                "Con",
                "Quoted",
                said_by="carlos",
                about=("council",),
                backwards=True,
            ),
            "largest": Claim(
                "The plan is the largest public works project in the city's history",
                "Unclear",
                "Own",
                about=("porto",),
            ),
            "may": Claim("the work would start in May", "Pro", "Quoted", said_by="green"),
        },
        "Politics",
    ),
    Article(
        "nw-2024-03-05-santos",
        "Northwire",
        "Santos dock workers strike",
        SANTOS_WIRE,
        {
            "santos": ("SANTOS", "LOCATION", 0),
            "nw": ("Northwire", "ORGANIZATION", 0),
            "marta": ("Marta Lima", "PERSON", 0),
            "lima": ("Lima", "PERSON", 1),
            "spa": ("Santos Port Authority", "ORGANIZATION", 0),
        },
        {
            "continue": Claim(
                "the stoppage would continue until wages rise",
                "Con",
                "Quoted",
                said_by="lima",
                about=("spa",),
            ),
            "illegal": Claim("the strike was illegal", "Con", "Quoted", said_by="spa"),
        },
        "Economy",
    ),
    Article(
        "gz-2024-03-05-santos",
        "Coastal Gazette",
        "Port of Santos halted by strike",
        SANTOS_COPY,
        {
            "santos": ("SANTOS", "LOCATION", 0),
            "marta": ("Marta Lima", "PERSON", 0),
            "lima": ("Lima", "PERSON", 1),
            "spa": ("Santos Port Authority", "ORGANIZATION", 0),
        },
        {
            "continue": Claim(
                "the stoppage would continue until wages rise",
                "Con",
                "Quoted",
                said_by="lima",
                about=("spa",),
                backwards=True,
            ),
            "illegal": Claim("the strike was illegal", "Con", "Quoted", said_by="spa"),
        },
        "Economy",
    ),
]


def write_articles(folder: Path) -> Path:
    """The articles folder: raw texts byte for byte, metadata, the sources' cleaning rules."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.json").write_text(json.dumps(SOURCES, indent=1), encoding="utf-8")
    for a in ARTICLES:
        (folder / f"{a.id}.txt").write_bytes(a.raw.encode("utf-8"))
        meta = {
            "id": a.id,
            "source": a.source,
            "title": a.title,
            "published": "2024-03-05",
            "language": "en",
            "url": None,
            "license": "CC BY 4.0 (test fixture written for claimwire)",
            "group": a.group,
        }
        (folder / f"{a.id}.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def _find(text: str, surface: str, occurrence: int) -> int:
    pattern = re.compile(r"(?<!\w)" + re.escape(surface) + r"(?!\w)")
    return [m.start() for m in pattern.finditer(text)][occurrence]


def clean_span(cleaned: str, surface: str, occurrence: int = 0) -> tuple[int, int]:
    start = _find(cleaned, surface, occurrence)
    return start, start + len(surface)


def raw_span(raw: str, cleaned: str, surface: str, occurrence: int = 0) -> tuple[int, int]:
    """The characters of ``surface`` (its ``occurrence`` in the cleaned text) in the raw text:
    the cleaned paragraph holding it is found among the raw lines, in order."""
    start, end = clean_span(cleaned, surface, occurrence)
    parts = re.split(r"(\r\n|\n)", raw)  # line, line end, line, ...
    lines = parts[::2]
    offsets = []
    at = 0  # where the next raw line starts
    for i in range(0, len(parts), 2):
        offsets.append(at)
        at += len(parts[i]) + (len(parts[i + 1]) if i + 1 < len(parts) else 0)
    position = 0
    k = 0
    for paragraph in cleaned.split("\n\n"):
        while lines[k].strip() != paragraph:
            k += 1
        line_start = offsets[k] + len(lines[k]) - len(lines[k].lstrip())
        if position <= start < position + len(paragraph):
            return line_start + start - position, line_start + end - position
        position += len(paragraph) + 2
        k += 1
    raise KeyError(surface)


def results(article: Article, cleaned: str, slips: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One annotation of ``article`` in the project's names, on the raw text, with ``slips``:
    ``author-claimer`` (a said_by on the AUTHOR claim), ``no-stance:<claim>`` (its position
    left out), ``entity-relation`` (a said_by between two entities)."""
    raw = article.raw
    out: list[dict[str, Any]] = []

    def region(rid: str, control: str, s: int, e: int) -> dict[str, Any]:
        return {"id": rid, "from_name": control, "to_name": "story", "origin": "manual"} | {
            "value": {"start": s, "end": e, "text": raw[s:e]}
        }

    for key, (surface, label, n) in article.entities.items():
        s, e = raw_span(raw, cleaned, surface, n)
        r = region(key, "mentions", s, e)
        r["type"] = "labels"
        r["value"]["labels"] = [label]
        out.append(r)

    def relation(claim: str, entity: str, label: str, backwards: bool) -> dict[str, Any]:
        a, b = (entity, claim) if backwards else (claim, entity)
        return {
            "type": "relation",
            "from_id": a,
            "to_id": b,
            "direction": "right",
            "labels": [label],
        }

    for key, c in article.claims.items():
        s, e = raw_span(raw, cleaned, c.text)
        r = region(key, "assertion", s, e)
        r["type"] = "labels"
        r["value"]["labels"] = ["Claim"]
        out.append(r)
        position = None if f"no-stance:{key}" in slips else c.position
        for control, value in (("position", position), ("voice", c.voice)):
            if value is None:
                continue
            choice = region(key, control, s, e)
            choice["type"] = "choices"
            choice["value"]["choices"] = [value]
            out.append(choice)
        if c.said_by:
            out.append(relation(key, c.said_by, "said_by", c.backwards))
        elif c.voice == "Own" and "author-claimer" in slips:
            out.append(relation(key, next(iter(article.entities)), "said_by", c.backwards))
        for t in c.about:
            out.append(relation(key, t, "about", c.backwards))
    if "entity-relation" in slips:
        people = [k for k, (_, label, _) in article.entities.items() if label == "PERSON"]
        orgs = [k for k, (_, label, _) in article.entities.items() if label == "ORGANIZATION"]
        out.append(relation(people[-1], orgs[-1], "said_by", False))
    out.append(
        {
            "id": "topic",
            "from_name": "topic",
            "to_name": "story",
            "type": "choices",
            "value": {"choices": [article.topic]},
        }
    )
    return out
