"""A foreign Label Studio project: its labeling config, and the shipped export rewritten in its
names (what an export of that project holding the same annotations would look like), with
regions and controls the claimwire scheme has no place for."""

from __future__ import annotations

import copy
from typing import Any

FOREIGN_CONFIG = """\
<View>
  <Header value="$headline"/>
  <Labels name="ner" toName="body">
    <Label value="PERSON"/>
    <Label value="ORGANIZATION"/>
    <Label value="COUNTRY"/>
    <Label value="LOCATION"/>
    <Label value="Nationality"/>
    <Label value="Event"/>
    <Label value="MISC"/>
  </Labels>
  <Labels name="claim_span" toName="body">
    <Label value="Claim"/>
  </Labels>
  <Relations>
    <Relation value="said_by"/>
    <Relation value="about"/>
  </Relations>
  <Text name="body" value="$content"/>
  <Choices name="stance" toName="body" perRegion="true">
    <Choice value="for"/>
    <Choice value="against"/>
    <Choice value="none"/>
  </Choices>
  <Choices name="attribution" toName="body" perRegion="true">
    <Choice value="quoted"/>
    <Choice value="editorial"/>
  </Choices>
  <Choices name="portrayal" toName="body" perRegion="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
  <Choices name="sentiment" toName="body">
    <Choice value="positive"/>
    <Choice value="negative"/>
  </Choices>
</View>
"""

CONTROLS = {"entity": "ner", "claim": "claim_span"}
LABELS = {
    "PER": "PERSON",
    "ORG": "ORGANIZATION",
    "GPE": "COUNTRY",
    "LOC": "LOCATION",
    "NORP": "Nationality",
    "EVENT": "Event",
    "CLAIM": "Claim",
}
CHOICES = {
    "stance": {"FAVOR": "for", "AGAINST": "against", "NEUTRAL": "none"},
    "attribution": {"REPORTED": "quoted", "AUTHOR": "editorial"},
    "portrayal": {"POSITIVE": "Positive", "NEGATIVE": "Negative", "NEUTRAL": "Neutral"},
}
RELATIONS = {"claimer": "said_by", "target": "about"}


def _foreign_result(r: dict[str, Any]) -> dict[str, Any]:
    r = copy.deepcopy(r)
    if r["type"] == "relation":
        r["labels"] = [RELATIONS[x] for x in r["labels"]]
        return r
    r["to_name"] = "body"
    if r["type"] == "labels":
        r["from_name"] = CONTROLS[r["from_name"]]
        r["value"]["labels"] = [LABELS[x] for x in r["value"]["labels"]]
    else:
        r["value"]["choices"] = [CHOICES[r["from_name"]][x] for x in r["value"]["choices"]]
    return r


def misc_region(text: str, rid: str, word: str) -> list[dict[str, Any]]:
    """A MISC region on the first ``word`` of ``text``, with a portrayal choice."""
    start = text.index(word)
    value = {"start": start, "end": start + len(word), "text": word}
    return [
        {
            "id": rid,
            "from_name": "ner",
            "to_name": "body",
            "type": "labels",
            "value": {**value, "labels": ["MISC"]},
        },
        {
            "id": rid,
            "from_name": "portrayal",
            "to_name": "body",
            "type": "choices",
            "value": {**value, "choices": ["Neutral"]},
        },
    ]


def foreign_data(data: dict[str, Any]) -> dict[str, Any]:
    """The data keys of a task of ours (``data``) as claimwire writes them for the foreign
    project, through the mapping ``init`` drafts for its config."""
    return {
        "content": data["text"],
        "article_id": data["article_id"],
        "text_sha256": data["text_sha256"],
        "headline": data["title"],
        "source": data["source"],
    }


def foreign_task(task: dict[str, Any], misc: tuple[str, ...] = ()) -> dict[str, Any]:
    """``task`` (a shipped task) in the foreign project's names. ``misc``: words that get a
    MISC region each (with a portrayal, and a relation from the first claim), inserted after
    the first result of every annotation; a document-level sentiment choice is appended."""
    data = task["data"]
    out = {k: v for k, v in task.items() if k not in ("data", "annotations")}
    out["data"] = {
        "content": data["text"],
        "article_id": data["article_id"],
        "headline": data.get("title"),
    }
    annotations = []
    for a in task["annotations"]:
        results = [_foreign_result(r) for r in a["result"]]
        extra: list[dict[str, Any]] = []
        claim = next((r["id"] for r in a["result"] if r.get("from_name") == "claim"), None)
        for n, word in enumerate(misc):
            rid = f"misc{n}"
            extra += misc_region(data["text"], rid, word)
            if claim is not None:
                extra.append(
                    {
                        "type": "relation",
                        "from_id": claim,
                        "to_id": rid,
                        "direction": "right",
                        "labels": ["about"],
                    }
                )
        results[1:1] = extra
        results.append(
            {
                "id": "doc-sentiment",
                "from_name": "sentiment",
                "to_name": "body",
                "type": "choices",
                "value": {"choices": ["positive"]},
            }
        )
        annotations.append({**a, "result": results})
    out["annotations"] = annotations
    return out
