"""The annotation scheme: label sets (from ``schema/labels.schema.json``, their single truth) and
the Label Studio labeling config that must declare exactly those labels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree

from ..errors import InvalidDataError, Problem
from .schemas import load_schema

ROOT = Path(__file__).resolve().parents[2]
LABEL_CONFIG = ROOT / "annotations" / "labeling_config.xml"


def _enum(name: str) -> tuple[str, ...]:
    return tuple(load_schema("labels")["$defs"][name]["enum"])


ENTITY_LABELS = _enum("entity_label")
CLAIM_LABELS = _enum("claim_label")
STANCES = _enum("stance")
ATTRIBUTIONS = _enum("attribution")
PORTRAYALS = _enum("portrayal")
RELATIONS = _enum("relation")
NER_TAGS = ("O", *(f"{p}-{label}" for label in ENTITY_LABELS for p in ("B", "I")))

# Control names in the labeling config, and what each one carries.
SPAN_CONTROLS = {"entity": ENTITY_LABELS, "claim": CLAIM_LABELS}
CHOICE_CONTROLS = {"stance": STANCES, "attribution": ATTRIBUTIONS, "portrayal": PORTRAYALS}
CHOICE_TARGET = {"stance": "claim", "attribution": "claim", "portrayal": "entity"}


@dataclass(frozen=True)
class LabelConfig:
    """What a labeling config declares: span controls, per-region choices and relation labels."""

    spans: dict[str, tuple[str, ...]]
    choices: dict[str, tuple[str, ...]]
    relations: tuple[str, ...]
    xml: str


def parse_label_config(xml: str, file: str = "<labeling config>") -> LabelConfig:
    """Parse a Label Studio labeling config (with a parser that refuses entity expansion)."""
    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # defusedxml raises several types; all mean "not a config"
        raise InvalidDataError(
            Problem(f"labeling config is not safe, well-formed XML: {exc}", file=file)
        ) from None
    spans = {
        el.get("name", ""): tuple(lab.get("value", "") for lab in el.iter("Label"))
        for el in root.iter("Labels")
    }
    choices = {
        el.get("name", ""): tuple(ch.get("value", "") for ch in el.iter("Choice"))
        for el in root.iter("Choices")
    }
    relations = tuple(r.get("value", "") for r in root.iter("Relation"))
    return LabelConfig(spans=spans, choices=choices, relations=relations, xml=xml)


def load_label_config(path: Path = LABEL_CONFIG) -> LabelConfig:
    return parse_label_config(path.read_text(encoding="utf-8"), file=str(path))
