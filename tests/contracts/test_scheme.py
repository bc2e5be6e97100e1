"""Scheme mappings: drafting one from a labeling config, the identity of the shipped scheme, and
the mapping file's own contract."""

import copy
import json
from dataclasses import replace

import pytest
from support.foreign import FOREIGN_CONFIG
from support.helpers import seed_export

from builder.contracts.labels import (
    ATTRIBUTIONS,
    CHOICE_CONTROLS,
    CLAIM_LABELS,
    ENTITY_LABELS,
    LABEL_CONFIG,
    PORTRAYALS,
    RELATIONS,
    SPAN_CONTROLS,
    STANCES,
    load_label_config,
)
from builder.contracts.schemas import load_schema, reference_validator
from builder.contracts.scheme import (
    DEFAULTS_COMMENT,
    DROP,
    Decision,
    Declared,
    Origin,
    Scheme,
    draft_scheme,
    load_scheme,
    spelling,
)
from builder.errors import InvalidDataError, Problem

ASSUMED_ID = (
    "the config does not show the article id: the tasks are assumed to carry it as "
    "data.article_id; change it if they use another key"
)
ASSUMED_KEYS = (
    "data keys the labeling config does not show are assumed to have their canonical names "
    "(null: the tasks have no such key)"
)

FOREIGN_INIT_CONFIG = """\
<View>
  <Labels name="label" toName="text">
    <Label value="PERSON"/>
    <Label value="ORGANIZATION"/>
    <Label value="LOCATION"/>
    <Label value="MISC"/>
    <Label value="Claim"/>
  </Labels>
  <Text name="text" value="$text"/>
  <Relations>
    <Relation value="said_by"/>
    <Relation value="about"/>
  </Relations>
  <Choices name="stance" toName="text" perRegion="true">
    <Choice value="for"/>
    <Choice value="against"/>
    <Choice value="none"/>
  </Choices>
  <Choices name="attribution" toName="text" perRegion="true">
    <Choice value="quoted"/>
    <Choice value="editorial"/>
  </Choices>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="positive"/>
    <Choice value="negative"/>
    <Choice value="neutral"/>
  </Choices>
</View>
"""


def test_init_on_a_foreign_config_maps_known_spellings_and_drops_the_rest():
    draft = draft_scheme(FOREIGN_INIT_CONFIG, "foreign.xml")
    assert draft.document == {
        "$schema": "https://claimwire.github.io/schema/scheme.schema.json",
        "comment": "drafted by `claimwire scheme init` from foreign.xml. Every control, label, "
        "choice value and relation label the exports use must be listed: mapped to a canonical "
        'name or "drop".',
        "text": {"tag": "text", "data_key": "text"},
        "data": {
            "article_id": {"key": "article_id", "comment": ASSUMED_ID},
            "text_sha256": "text_sha256",
            "title": "title",
            "url": "url",
            "published": "published",
            "source": "source",
            "comment": ASSUMED_KEYS,
        },
        "defaults": {"comment": DEFAULTS_COMMENT, "source": "unknown", "language": "en"},
        "spans": {
            "label": {
                "labels": {
                    "PERSON": "PER",
                    "ORGANIZATION": "ORG",
                    "LOCATION": "LOC",
                    "MISC": {"to": "drop", "comment": "MISC has no canonical entity type"},
                    "Claim": "CLAIM",
                }
            }
        },
        "choices": {
            "stance": {
                "role": "stance",
                "values": {"for": "FAVOR", "against": "AGAINST", "none": "NEUTRAL"},
            },
            "attribution": {
                "role": "attribution",
                "values": {"quoted": "REPORTED", "editorial": "AUTHOR"},
            },
        },
        "relations": {"said_by": "claimer", "about": "target"},
        "drop": {"sentiment": "document-level Choices (not perRegion): no place in the scheme"},
    }
    assert draft.scheme == Scheme(
        text_tag="text",
        text_key="text",
        data={k: k for k in ("article_id", "text_sha256", "title", "url", "published", "source")},
        spans={
            "label": {
                "PERSON": "PER",
                "ORGANIZATION": "ORG",
                "LOCATION": "LOC",
                "MISC": DROP,
                "Claim": "CLAIM",
            }
        },
        choices={
            "stance": ("stance", {"for": "FAVOR", "against": "AGAINST", "none": "NEUTRAL"}),
            "attribution": ("attribution", {"quoted": "REPORTED", "editorial": "AUTHOR"}),
        },
        relations={"said_by": "claimer", "about": "target"},
        drop={"sentiment": "document-level Choices (not perRegion): no place in the scheme"},
        defaults={"source": "unknown", "language": "en"},  # no licence: the team sets it
    )
    # the table lists what was mapped, then what was dropped and why
    rows = draft.rows()
    assert rows[-2:] == [
        ("label", "label", "MISC", "drop", "MISC has no canonical entity type"),
        (
            "control",
            "sentiment",
            "",
            "drop",
            "document-level Choices (not perRegion): no place in the scheme",
        ),
    ]
    assert ("relation", "", "said_by", "claimer", "") in rows
    assert ("data", "", "$article_id", "article_id", ASSUMED_ID) in rows


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        (("PER", "person", "People", "PERSON"), "PER"),
        (("ORG", "Organization", "organisation", "COMPANY"), "ORG"),
        (("GPE", "country", "City"), "GPE"),
        (("LOC", "Location"), "LOC"),
        (("NORP", "nationality"), "NORP"),
        (("EVENT", "event"), "EVENT"),
        (("CLAIM", "Factual claim", "claims", "check-worthy_CLAIM"), "CLAIM"),
        (("MISC", "Animal", "DATE"), DROP),
    ],
)
def test_span_label_spellings(spellings, canonical):
    labels = "".join(f'<Label value="{s}"/>' for s in spellings)
    xml = f'<View><Labels name="l" toName="t">{labels}</Labels><Text name="t" value="$x"/></View>'
    assert draft_scheme(xml).scheme.spans["l"] == dict.fromkeys(spellings, canonical)


def test_relation_and_choice_spellings_ignore_case_and_separators():
    xml = """<View><Text name="t" value="$x"/><Relations>
      <Relation value="Said By"/><Relation value="SAYS"/><Relation value="speaker"/>
      <Relation value="source"/><Relation value="attributed-to"/><Relation value="Target"/>
      <Relation value="about"/><Relation value="object"/><Relation value="subject"/>
      <Relation value="mentions"/><Relation value="cites"/></Relations>
      <Choices name="Claim-Stance" toName="t" perRegion="true">
        <Choice value="Pro"/><Choice value="supports"/><Choice value="CON"/>
        <Choice value="opposes"/><Choice value="unclear"/><Choice value="maybe"/></Choices>
      <Choices name="source type" toName="t" perRegion="true">
        <Choice value="Third party"/><Choice value="attributed"/><Choice value="own"/>
        <Choice value="Outlet"/></Choices>
      <Choices name="Portrayal" toName="t" perRegion="true">
        <Choice value="positive"/><Choice value="NEGATIVE"/><Choice value="neutral"/></Choices>
      <Choices name="position" toName="t" perRegion="true">
        <Choice value="favor" alias="F"/></Choices>
      <Choices name="confidence" toName="t" perRegion="true"><Choice value="high"/></Choices>
      <TextArea name="notes" toName="t"/>
    </View>"""
    scheme = draft_scheme(xml).scheme
    assert scheme.relations == {
        **dict.fromkeys(("Said By", "SAYS", "speaker", "source", "attributed-to"), "claimer"),
        **dict.fromkeys(("Target", "about", "object", "subject", "mentions"), "target"),
        "cites": DROP,
    }
    assert scheme.choices == {
        "Claim-Stance": (
            "stance",
            {
                "Pro": "FAVOR",
                "supports": "FAVOR",
                "CON": "AGAINST",
                "opposes": "AGAINST",
                "unclear": "NEUTRAL",
                "maybe": DROP,
            },
        ),
        "source type": (
            "attribution",
            {
                "Third party": "REPORTED",
                "attributed": "REPORTED",
                "own": "AUTHOR",
                "Outlet": "AUTHOR",
            },
        ),
        "Portrayal": (
            "portrayal",
            {"positive": "POSITIVE", "NEGATIVE": "NEGATIVE", "neutral": "NEUTRAL"},
        ),
        # a choice with an alias is exported under either name: both are mapped
        "position": ("stance", {"favor": "FAVOR", "F": "FAVOR"}),
    }
    assert set(scheme.drop) == {"confidence", "notes"}
    assert scheme.drop["notes"] == "TextArea control: no place in the scheme"
    assert spelling(" Said-by ") == spelling("SAID_BY") == spelling("said  by") == "said_by"


def test_labels_on_another_text_tag_are_dropped_and_the_text_tag_is_the_labelled_one():
    xml = """<View><Text name="headline" value="$title"/><Text name="body" value="$content"/>
      <Labels name="h" toName="headline"><Label value="PER"/></Labels>
      <Labels name="b" toName="body"><Label value="PER"/></Labels>
      <Labels name="b2" toName="body"><Label value="CLAIM"/></Labels></View>"""
    draft = draft_scheme(xml)
    scheme = draft.scheme
    assert (scheme.text_tag, scheme.text_key) == ("body", "content")
    assert scheme.data["title"] == "title"
    assert scheme.drop == {"h": "Labels on headline, not on the article text (body)"}
    assert draft.document["text"]["comment"].startswith("the config has other Text tags (headline)")


def test_a_config_without_a_text_tag_is_refused():
    with pytest.raises(InvalidDataError, match="no Text tag"):
        draft_scheme('<View><Image name="i" value="$img"/></View>')
    with pytest.raises(InvalidDataError, match="not safe, well-formed XML"):
        draft_scheme('<!DOCTYPE x [<!ENTITY a "b">]><View>&a;</View>')


def test_identity_agrees_with_the_labeling_config_and_the_label_schema():
    identity = Scheme.identity()
    assert identity.is_identity
    # drafting from the shipped config gives the identity: every name maps onto itself
    draft = draft_scheme(LABEL_CONFIG.read_text(encoding="utf-8"), str(LABEL_CONFIG))
    assert draft.scheme == replace(identity, defaults={"source": "unknown", "language": "en"})
    assert draft.scheme.is_identity  # the defaults translate nothing
    assert all(to != DROP for *_, to, _ in draft.rows())
    # ...and it names exactly the controls, labels, choices and relations of the config
    config = load_label_config()
    assert {c: tuple(m) for c, m in identity.spans.items()} == config.spans
    assert {c: tuple(m) for c, (_, m) in identity.choices.items()} == config.choices
    assert tuple(identity.relations) == config.relations
    assert {c: role for c, (role, _) in identity.choices.items()} == {c: c for c in config.choices}
    # ...which are the label sets of schema/labels.schema.json
    labels = load_schema("labels")["$defs"]
    assert tuple(identity.spans["entity"]) == tuple(labels["entity_label"]["enum"]) == ENTITY_LABELS
    assert tuple(identity.spans["claim"]) == tuple(labels["claim_label"]["enum"]) == CLAIM_LABELS
    assert {c: tuple(m) for c, m in identity.spans.items()} == SPAN_CONTROLS
    for role, enum, values in (
        ("stance", "stance", STANCES),
        ("attribution", "attribution", ATTRIBUTIONS),
        ("portrayal", "portrayal", PORTRAYALS),
    ):
        assert tuple(identity.choices[role][1]) == tuple(labels[enum]["enum"]) == values
        assert CHOICE_CONTROLS[role] == values
    assert tuple(identity.relations) == tuple(labels["relation"]["enum"]) == RELATIONS
    # the text tag and data key of the config
    assert '<Text name="text" value="$text"/>' in config.xml
    assert (identity.text_tag, identity.text_key) == ("text", "text")
    # a foreign scheme is not the identity
    assert not draft_scheme(FOREIGN_CONFIG).scheme.is_identity


def test_the_mapping_schema_is_valid_2020_12():
    schema = load_schema("scheme")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/scheme.schema.json")
    reference_validator("scheme").check_schema(schema)
    reference_validator("scheme").validate(draft_scheme(FOREIGN_CONFIG).document)


def test_a_bad_mapping_file_is_refused_with_a_pointer():
    doc = draft_scheme(FOREIGN_CONFIG, "foreign.xml").document
    bad = copy.deepcopy(doc)
    bad["choices"]["stance"]["values"]["for"] = "YES"
    with pytest.raises(InvalidDataError) as err:
        Scheme.from_json(bad, "scheme.json")
    (p,) = err.value.problems
    assert (p.file, p.pointer) == ("scheme.json", "/choices/stance/values/for")
    bad = copy.deepcopy(doc)
    bad["spans"]["ner"]["labels"]["PERSON"] = "PERSON"
    with pytest.raises(InvalidDataError) as err:
        Scheme.from_json(bad, "scheme.json")
    assert err.value.problems[0].pointer == "/spans/ner/labels/PERSON"
    bad = copy.deepcopy(doc)
    bad["drop"]["stance"] = "twice"
    with pytest.raises(InvalidDataError, match="listed in both 'choices' and 'drop'"):
        Scheme.from_json(bad, "scheme.json")


# --- translation, exactly (each assertion kills mutants of `make mutate`)

FOREIGN = Scheme(
    text_tag="body",
    text_key="content",
    data={
        "article_id": "doc",
        "text_sha256": None,
        "title": "headline",
        "url": None,
        "published": None,
        "source": None,
    },
    spans={"ner": {"PERSON": "PER", "MISC": DROP, "Org": "ORG"}, "claims": {"Claim": "CLAIM"}},
    choices={"position": ("stance", {"for": "FAVOR", "skip": DROP})},
    relations={"said_by": "claimer", "about": "target", "x": DROP},
    drop={"sentiment": "document-level"},
    file="m.json",
)


def _span(rid: str, control: str, labels: object, kind: str = "labels") -> dict:
    return {
        "id": rid,
        "from_name": control,
        "to_name": "body",
        "type": kind,
        "value": {"start": 0, "end": 5, "text": "Alice", kind: labels},
    }


def _choice(rid: str, values: object) -> dict:
    return {
        "id": rid,
        "from_name": "position",
        "to_name": "body",
        "type": "choices",
        "value": {"choices": values},
    }


def _rel(a: str, b: str, *labels: str) -> dict:
    return {"type": "relation", "from_id": a, "to_id": b, "labels": list(labels)}


RESULTS = [
    _span("r1", "ner", ["PERSON"]),  # 0: kept, an entity
    _span("r2", "ner", ["MISC"]),  # 1: dropped by its label
    _choice("r2", ["for"]),  # 2: goes with its region
    _span("r3", "claims", ["Claim"]),  # 3: kept, a claim
    _choice("r3", ["for", "skip"]),  # 4: kept, one value dropped
    _rel("r3", "r1", "said_by"),  # 5: kept
    _rel("r2", "r3", "about"),  # 6: touches a dropped region
    {"id": "s", "from_name": "sentiment", "type": "choices", "value": {"choices": ["p"]}},  # 7
    _span("r9", "sentiment", ["Z"]),  # 8: a dropped control's region, counted
    "junk",  # 9: malformed, left for the task schema
    {"from_name": 5},  # 10: malformed
    _rel("r3", "r1", "x"),  # 11: a relation label mapped to drop
    _choice("r4", ["skip"]),  # 12: every value dropped
    _span("r5", "sentiment", [5], "hypertextlabels"),  # 13: counted under repr(5)
    _span("r6", "sentiment", []),  # 14: counted under ""
    {"id": "r7", "from_name": "sentiment", "type": "labels", "value": None},  # 15: ""
    {"id": "r8", "from_name": "ner", "to_name": "body", "type": "labels", "value": None},  # 16
    {**_choice("r3", None), "value": 3},  # 17: malformed
    _span("r10", "ner", ["PERSON", 5]),  # 18: malformed labels
    _span("r11", "ner", "PERSON"),  # 19: malformed labels
    {k: v for k, v in _rel("r3", "r1").items() if k != "labels"},  # 20: unlabeled
]


def _task(results=None, **extra) -> dict:
    return {
        "id": 7,
        "data": {"content": "Alice said", "doc": "a1", "headline": "H", "extra": 1},
        "annotations": [
            {"id": 1, "result": copy.deepcopy(RESULTS) if results is None else results},
            "not an annotation",
            {"id": 2, "result": "not a list"},
        ],
        **extra,
    }


def test_a_task_is_translated_into_canonical_names_with_where_each_part_was():
    scheme = replace(FOREIGN, relations={**FOREIGN.relations, "": "target"})
    prediction = {"result": [_span("p1", "ner", ["Org"]), _span("p2", "ner", ["MISC"])]}
    out = scheme.translate(_task(predictions=[prediction]), "/3", predictions=True)
    r = RESULTS

    def canonical(result: dict, control: str, key: str, values: list[str]) -> dict:
        return {
            **result,
            "from_name": control,
            "to_name": "text",
            "value": {**result["value"], key: values},
        }

    kept = [0, 3, 4, 5, 9, 10, 16, 17, 18, 19, 20]
    assert out.task == {
        "id": 7,
        "data": {"text": "Alice said", "article_id": "a1", "title": "H"},
        "annotations": [
            {
                "id": 1,
                "result": [
                    canonical(r[0], "entity", "labels", ["PER"]),
                    canonical(r[3], "claim", "labels", ["CLAIM"]),
                    canonical(r[4], "stance", "choices", ["FAVOR"]),
                    {**r[5], "labels": ["claimer"]},
                    *(r[k] for k in (9, 10, 16, 17, 18, 19)),
                    {**r[20], "labels": ["target"]},
                ],
            },
            "not an annotation",
            {"id": 2, "result": "not a list"},
        ],
        "predictions": [
            {"result": [canonical(prediction["result"][0], "entity", "labels", ["ORG"])]}
        ],
    }
    assert out.origin == Origin(
        "/3",
        (("text", "content"), ("article_id", "doc"), ("title", "headline")),
        (tuple(kept), None, None),
    )
    assert out.dropped == (
        ("ner", "MISC", 1),
        ("sentiment", "Z", 1),
        ("sentiment", "5", 1),
        ("sentiment", "", 2),
    )


def test_predictions_are_translated_only_when_asked():
    task = _task(results=[], predictions=[{"result": [_span("p", "ner", ["Org"])]}])
    assert FOREIGN.translate(task).task["predictions"] == task["predictions"]
    bad = _task(results=[], predictions=[{"result": [_span("p", "ner", ["Nope"])]}])
    with pytest.raises(InvalidDataError) as err:
        FOREIGN.translate(bad, "/3", predictions=True)
    (p,) = err.value.problems
    assert (p.task, p.pointer) == (7, "/3/predictions/0/result/0/value/labels/0")


def test_only_renamed_data_keys_make_an_origin():
    out = FOREIGN.translate(_task(results=[]))
    assert out.origin == Origin(
        "", (("text", "content"), ("article_id", "doc"), ("title", "headline")), (None, None, None)
    )
    assert out.dropped == ()
    same = replace(FOREIGN, text_key="text", data={**FOREIGN.data, "article_id": "article_id"})
    task = {"id": 1, "data": {"text": "t", "article_id": "a", "headline": "H"}, "annotations": []}
    assert same.translate(task).origin == Origin("", (("title", "headline"),), ())
    task["data"]["title"] = task["data"].pop("headline")
    assert replace(same, data={**same.data, "title": "title"}).translate(task).origin is None


def _mismatch(scheme: Scheme, task: dict, base: str = "") -> Problem:
    with pytest.raises(InvalidDataError) as err:
        scheme.translate(task, base)
    (p,) = err.value.problems
    return p


FIX = "run `claimwire scheme init` again for the project's current labeling config, or add "


@pytest.mark.parametrize(
    "data,key,what,entry,found",
    [
        ({"doc": "a1", "x": 1}, "content", "text key", "text.data_key", "keys 'doc', 'x'"),
        ({"content": "t"}, "doc", "article id key", "data.article_id", "keys 'content'"),
        ({}, "content", "text key", "text.data_key", "no keys"),
    ],
)
def test_a_task_without_the_text_or_article_id_key_names_the_entry(data, key, what, entry, found):
    assert _mismatch(FOREIGN, {"id": 7, "data": data}, "/2") == Problem(
        f"task data has no {key!r} (the scheme's {what})",
        task=7,
        pointer="/2/data",
        expected=f"a data key {key!r}",
        found=found,
        fix=f"set {entry} in m.json to the key your tasks use",
    )


def test_an_unknown_control_or_another_text_tag_names_the_entry_to_add():
    unknown = _span("r", "topic", ["x"])
    assert (
        _mismatch(FOREIGN, {"id": "7", "annotations": [{"result": [unknown]}]})
        == Problem(
            "control 'topic' is not in the scheme",
            task=None,  # not an integer id
            pointer="/annotations/0/result/0/from_name",
            expected="a control listed under spans, choices or drop",
            found="'topic'",
            fix=FIX + '"topic" under "spans" (a Labels control), "choices" (per-region Choices) '
            'or "drop" in m.json',
        )
    )
    elsewhere = {**_span("r", "ner", ["PERSON"]), "to_name": "headline"}
    assert _mismatch(replace(FOREIGN, file=None), {"annotations": [{"result": [elsewhere]}]}) == (
        Problem(
            "control 'ner' labels tag 'headline', not the scheme's text tag 'body'",
            pointer="/annotations/0/result/0/to_name",
            expected="'body'",
            found="'headline'",
            fix=FIX + '"ner" under "drop", or the right text.tag in the scheme file',
        )
    )


@pytest.mark.parametrize(
    "result,pointer,message,expected,entry",
    [
        (
            _span("r", "ner", ["PERSON", "Animal"]),
            "/value/labels/1",
            "label 'Animal' of control 'ner' is not in the scheme",
            "one of the labels the scheme lists for 'ner': 'PERSON', 'MISC', 'Org'",
            '"Animal": "<canonical name or drop>" under "spans" > "ner" > "labels"',
        ),
        (
            _choice("r", ["maybe"]),
            "/value/choices/0",
            "value 'maybe' of control 'position' is not in the scheme",
            "one of the values the scheme lists for 'position': 'for', 'skip'",
            '"maybe": "<canonical name or drop>" under "choices" > "position" > "values"',
        ),
        (
            _rel("a", "b", "cites"),
            "/labels/0",
            "relation label 'cites' is not in the scheme",
            "one of the relation labels the scheme lists: 'said_by', 'about', 'x'",
            '"cites": "<canonical name or drop>" under "relations"',
        ),
        (
            _rel("a", "b"),
            "",
            "relation has no label and the scheme does not say what an unlabeled relation is",
            "a relation label the scheme maps",
            '"": "drop" (or "claimer" / "target") under "relations"',
        ),
    ],
)
def test_a_name_the_scheme_does_not_list_names_the_entry_to_add(
    result, pointer, message, expected, entry
):
    task = {"id": 7, "annotations": [{"result": [result]}]}
    p = _mismatch(FOREIGN, task, "/5")
    assert p == Problem(
        message,
        task=7,
        pointer="/5/annotations/0/result/0" + pointer,
        expected=expected,
        found="labels []" if not pointer else repr(message.split("'")[1]),
        fix=FIX + entry + " in m.json",
    )


def test_unlabeled_relations_follow_the_empty_label_entry():
    task = {"annotations": [{"result": [_rel("a", "b"), {"type": "relation", "from_id": "a"}]}]}
    drop = replace(FOREIGN, relations={"": DROP})
    assert drop.translate(task).task["annotations"][0]["result"] == []
    claimer = replace(FOREIGN, relations={"": "claimer"})
    assert claimer.translate(task).task["annotations"][0]["result"] == [
        {**_rel("a", "b"), "labels": ["claimer"]},
        {"type": "relation", "from_id": "a", "labels": ["claimer"]},
    ]


def test_pointers_into_a_translated_task_lead_back_to_the_export_as_written():
    origin = Origin("/3", (("text", "content"), ("article_id", "a/b~c")), ((0, 2, 5), None))
    cases = {
        "/3": "/3",
        "/4/data/text": "/4/data/text",
        "/30/data/text": "/30/data/text",
        "/3/data": "/3/data",
        "/3/data/text": "/3/data/content",
        "/3/data/article_id/x": "/3/data/a~1b~0c/x",
        "/3/data/title": "/3/data/title",
        "/3/annotations/0/result": "/3/annotations/0/result",
        "/3/annotations/0/result/1": "/3/annotations/0/result/2",
        "/3/annotations/0/result/2/value/start": "/3/annotations/0/result/5/value/start",
        "/3/annotations/0/result/3": "/3/annotations/0/result/3",
        "/3/annotations/1/result/0": "/3/annotations/1/result/0",
        "/3/annotations/2/result/0": "/3/annotations/2/result/0",
        "/3/annotations/x/result/1": "/3/annotations/x/result/1",
        "/3/annotations/0/result/y": "/3/annotations/0/result/y",
        "/3/predictions/0/result/1": "/3/predictions/0/result/1",
        "/3/annotations/0/value/1/x": "/3/annotations/0/value/1/x",
    }
    assert {p: origin.pointer(p) for p in cases} == cases


def _mapping_doc() -> dict:
    return copy.deepcopy(draft_scheme(FOREIGN_INIT_CONFIG, "foreign.xml").document)


def test_a_mapping_file_lists_each_control_in_one_section():
    doc = _mapping_doc()
    doc["drop"]["label"] = "twice"
    with pytest.raises(InvalidDataError) as err:
        Scheme.from_json(doc, "scheme.json")
    assert err.value.problems == [
        Problem(
            "control 'label' is listed in both 'spans' and 'drop'",
            file="scheme.json",
            pointer="/drop/label",
            fix="keep it in one section: spans (Labels), choices (per-region Choices) or drop",
        )
    ]


def test_schema_problems_of_a_mapping_file_say_how_to_fix_it():
    doc = _mapping_doc()
    doc["text"] = 5
    with pytest.raises(InvalidDataError) as err:
        Scheme.from_json(doc, "scheme.json")
    assert {(p.file, p.pointer, p.fix) for p in err.value.problems} == {
        (
            "scheme.json",
            "/text",
            "correct the mapping file, or write one with `claimwire scheme init`",
        )
    }


def test_a_mapping_file_without_drop_or_defaults_is_read():
    doc = _mapping_doc()
    del doc["drop"], doc["defaults"]
    doc["data"]["title"] = {"key": "headline", "comment": "c"}
    doc["data"]["url"] = None
    scheme = Scheme.from_json(doc, "scheme.json")
    assert (scheme.drop, scheme.defaults, scheme.file) == ({}, None, "scheme.json")
    assert (scheme.data["title"], scheme.data["url"]) == ("headline", None)


# --- drafting, exactly: every branch of one config, and the document and decisions it gives

WIRE_CONFIG = """\
<View>
  <Text name="body" value="$content"/>
  <Text name="headline" value="$headline"/>
  <Text name="empty"/>
  <Header value="$doc_id"/>
  <Header value="$content"/>
  <Header name="hd" value="Read this"/>
  <Labels name="ner" toName="body, headline">
    <Label value="Person"/><Label value="Animal"/><Label value=" MISC "/>
    <Label value="Check-worthy claim" alias="CW"/><Label value=""/><Label value="Link"/>
    <Header value="Mark the people"/>
  </Labels>
  <Labels name="h" toName="caption, side"><Label value="PER"/></Labels>
  <Relations><Relation value="said_by"/><Relation value="cites"/><Relation/></Relations>
  <Choices name="Stance" toName="body" perRegion="TRUE">
    <Header value="Pick one"/><Choice value="Pro"/><Choice value="maybe" alias="M"/>
  </Choices>
  <Choices name="confidence" toName="body" perRegion="true"><Choice value="high"/></Choices>
  <Choices name="topic" toName="body"><Choice value="x"/></Choices>
  <TextArea name="notes" toName="body"/>
</View>
"""

NOT_ENTITY = "not a known spelling of PER, ORG, GPE, LOC, NORP, EVENT or CLAIM"
NOT_STANCE = "not a known spelling of FAVOR, AGAINST, NEUTRAL"
OTHER_TEXT = (
    "the config has other Text tags (headline); 'body' holds the most Labels controls: change it "
    "if the article is another"
)
NOT_ROLE = (
    "per-region Choices not recognised as stance, attribution or portrayal: to keep it, move it "
    'under "choices" with a role and its values'
)
NOT_RELATION = "not a known spelling of claimer or target"


def test_a_draft_lists_every_decision_with_its_reason():
    draft = draft_scheme(
        WIRE_CONFIG, "p.xml", data_keys=("link", "doc_id", "sha256"), project="Wire"
    )
    drop = {
        "h": "Labels on caption, side, not on the article text (body)",
        "confidence": NOT_ROLE,
        "topic": "document-level Choices (not perRegion): no place in the scheme",
        "notes": "TextArea control: no place in the scheme",
    }
    assert draft.document == {
        "$schema": "https://claimwire.github.io/schema/scheme.schema.json",
        "comment": "drafted by `claimwire scheme init` from p.xml. Every control, label, choice "
        "value and relation label the exports use must be listed: mapped to a canonical name or "
        '"drop".',
        "text": {"tag": "body", "data_key": "content", "comment": OTHER_TEXT},
        "data": {
            "article_id": "doc_id",
            "text_sha256": "sha256",
            "title": "headline",
            "url": "link",
            "published": "published",
            "source": "source",
            "comment": ASSUMED_KEYS,
        },
        "defaults": {"comment": DEFAULTS_COMMENT, "source": "Wire", "language": "en"},
        "spans": {
            "ner": {
                "labels": {
                    "Person": "PER",
                    "Animal": {"to": "drop", "comment": NOT_ENTITY},
                    " MISC ": {"to": "drop", "comment": "MISC has no canonical entity type"},
                    "Check-worthy claim": "CLAIM",
                    "CW": "CLAIM",
                    "Link": {"to": "drop", "comment": NOT_ENTITY},
                }
            }
        },
        "choices": {
            "Stance": {
                "role": "stance",
                "values": {
                    "Pro": "FAVOR",
                    "maybe": {"to": "drop", "comment": NOT_STANCE},
                    "M": {"to": "drop", "comment": NOT_STANCE},
                },
            }
        },
        "relations": {
            "said_by": "claimer",
            "cites": {"to": "drop", "comment": NOT_RELATION},
        },
        "drop": drop,
    }
    assert draft.decisions == (
        Decision("text", "body", "$content", "text", OTHER_TEXT),
        Decision("data", "", "$doc_id", "article_id"),
        Decision("data", "", "$sha256", "text_sha256"),
        Decision("data", "", "$headline", "title"),
        Decision("data", "", "$link", "url"),
        Decision("label", "ner", "Person", "PER"),
        Decision("label", "ner", "Animal", DROP, NOT_ENTITY),
        Decision("label", "ner", " MISC ", DROP, "MISC has no canonical entity type"),
        Decision("label", "ner", "Check-worthy claim", "CLAIM"),
        Decision("label", "ner", "CW", "CLAIM"),
        Decision("label", "ner", "Link", DROP, NOT_ENTITY),
        Decision("control", "h", "", DROP, drop["h"]),
        Decision("choice", "Stance", "Pro", "FAVOR"),
        Decision("choice", "Stance", "maybe", DROP, NOT_STANCE),
        Decision("choice", "Stance", "M", DROP, NOT_STANCE),
        Decision("control", "confidence", "", DROP, NOT_ROLE),
        Decision("control", "topic", "", DROP, drop["topic"]),
        Decision("control", "notes", "", DROP, drop["notes"]),
        Decision("relation", "", "said_by", "claimer"),
        Decision("relation", "", "cites", DROP, NOT_RELATION),
    )


def test_the_text_tag_is_the_one_most_labels_controls_read():
    xml = """<View><Text name="a" value="$x"/><Text name="b" value="$y"/>
      <Text name="c" value="$z"/><Labels name="l" toName="a"><Label value="PER"/></Labels>
      <Labels name="m" toName="b, c"><Label value="PER"/></Labels>
      <Labels name="n" toName="b"><Label value="PER"/></Labels></View>"""
    draft = draft_scheme(xml)
    assert draft.document["text"] == {
        "tag": "b",
        "data_key": "y",
        "comment": "the config has other Text tags (a, c); 'b' holds the most Labels controls: "
        "change it if the article is another",
    }
    assert draft.document["comment"].startswith(
        "drafted by `claimwire scheme init` from <labeling config>. "
    )
    unlabelled_first = """<View><Text name="a" value="$x"/><Text name="b" value="$y"/>
      <Labels name="l" toName="b"><Label value="PER"/></Labels></View>"""
    assert draft_scheme(unlabelled_first).document["text"]["tag"] == "b"
    one = draft_scheme('<View><Text name="t" value="$x"/></View>')
    assert one.document["text"] == {"tag": "t", "data_key": "x"}
    assert one.decisions[0] == Decision("text", "t", "$x", "text", "")


def test_data_keys_come_from_the_config_variables_only():
    xml = """<View><Text name="t" value="$x"/><Header name="hd" value="Xpubdate"/>
      <Header value="$when_published"/><Header value="$date"/></View>"""
    data = draft_scheme(xml).document["data"]
    assert (data["published"], data["title"]) == ("date", "title")


def test_a_control_name_used_twice_is_named_in_the_config():
    xml = """<View><Text name="t" value="$x"/><Labels name="x" toName="t">
      <Label value="PER"/></Labels><TextArea name="x" toName="t"/></View>"""
    with pytest.raises(InvalidDataError) as err:
        draft_scheme(xml, "p.xml")
    (p,) = err.value.problems
    assert (p.file, p.pointer) == ("p.xml", "/drop/x")


def test_relations_without_labels_are_dropped_with_the_reason():
    xml = '<View><Text name="t" value="$x"/><Relations/></View>'
    why = "the config's relations have no labels: claimer and target cannot be told apart"
    draft = draft_scheme(xml)
    assert draft.document["relations"] == {"": {"to": "drop", "comment": why}}
    assert draft.decisions[-1] == Decision("relation", "", "(no label)", DROP, why)
    assert draft_scheme('<View><Text name="t" value="$x"/></View>').document["relations"] == {}


def test_a_config_that_cannot_be_drafted_is_named():
    with pytest.raises(InvalidDataError) as err:
        draft_scheme('<View><Image name="i" value="$img"/></View>', "p.xml")
    assert err.value.problems == [
        Problem(
            "the labeling config has no Text tag reading a data key",
            file="p.xml",
            expected='<Text name="..." value="$..."/>',
            fix="claimwire reads spans drawn on text: a project without a Text tag cannot be "
            "mapped",
        )
    ]
    with pytest.raises(InvalidDataError) as err:
        draft_scheme("<View>", "p.xml")
    (p,) = err.value.problems
    assert p.file == "p.xml" and p.message.startswith(
        "labeling config is not safe, well-formed XML"
    )


def test_spellings_lose_separators_at_both_ends():
    assert spelling("_Said by_") == spelling("-said-by ") == "said_by"


def test_a_mapping_file_that_cannot_be_read_is_named(tmp_path):
    missing = tmp_path / "scheme.json"
    with pytest.raises(InvalidDataError) as err:
        load_scheme(missing)
    assert err.value.problems == [
        Problem(
            "cannot read the scheme mapping: No such file or directory",
            file=str(missing),
            fix=f"write one with `claimwire scheme init` --from CONFIG.xml --out {missing}",
        )
    ]
    missing.write_text("{")
    with pytest.raises(InvalidDataError) as err:
        load_scheme(missing)
    (p,) = err.value.problems
    assert (p.file, p.fix) == (str(missing), None)
    assert p.message.startswith("the scheme mapping is not JSON: ")


def test_a_relation_label_of_a_scheme_without_relations_lists_none():
    task = {"annotations": [{"result": [{"type": "relation", "labels": ["cites"]}]}]}
    with pytest.raises(InvalidDataError) as err:
        replace(FOREIGN, relations={}).translate(task)
    assert err.value.problems[0].expected == "one of the relation labels the scheme lists: none"


# --- back into the project's names (ls push --release --scheme) ---------------------------------


def _seed_task() -> dict:
    (task,) = json.loads(seed_export())
    return task


def _import_task(task: dict) -> dict:
    """The seed task as `ls push` would send it: canonical data keys, one annotation and one
    prediction of the same results."""
    result = task["annotations"][0]["result"]
    return {
        "data": {k: task["data"][k] for k in ("text", "article_id", "text_sha256", "title")},
        "annotations": [{"result": result, "ground_truth": True}],
        "predictions": [{"model_version": "m", "result": result}],
    }


def _drafted(**labels: str) -> dict:
    doc = draft_scheme(FOREIGN_CONFIG).document
    doc["spans"]["ner"]["labels"] = {**labels, **doc["spans"]["ner"]["labels"]}
    return doc


def test_reverse_writes_the_configs_names_and_reads_back_to_the_same_results():

    task = _seed_task()
    scheme = Scheme.from_json(_drafted(Person_old="PER"))
    reverse = scheme.reverse(Declared.of(FOREIGN_CONFIG))
    (pushed,) = reverse.tasks([_import_task(task)])

    assert pushed["data"] == {
        "content": task["data"]["text"],
        "article_id": task["data"]["article_id"],
        "text_sha256": task["data"]["text_sha256"],
        "headline": task["data"]["title"],
    }
    results = pushed["annotations"][0]["result"]
    assert pushed["predictions"][0]["result"] == results
    assert pushed["annotations"][0]["ground_truth"] is True
    spans = {
        (r["from_name"], r["to_name"], r["value"]["labels"][0])
        for r in results
        if r["type"] == "labels"
    }
    assert spans == {
        ("ner", "body", "PERSON"),  # the config's spelling, not the older one listed first
        ("ner", "body", "COUNTRY"),
        ("ner", "body", "ORGANIZATION"),
        ("ner", "body", "Nationality"),
        ("claim_span", "body", "Claim"),
    }
    choices = {
        (r["from_name"], r["value"]["choices"][0]) for r in results if r["type"] == "choices"
    }
    assert choices == {
        ("stance", "for"),
        ("stance", "against"),
        ("stance", "none"),
        ("attribution", "quoted"),
        ("attribution", "editorial"),
        ("portrayal", "Neutral"),
    }
    assert {x for r in results if r["type"] == "relation" for x in r["labels"]} == {
        "said_by",
        "about",
    }
    # the round trip: read through the same mapping, the results are the release's again
    back = scheme.translate({"id": 1, **pushed}, predictions=True)
    original = task["annotations"][0]["result"]
    assert back.task["annotations"][0]["result"] == original
    assert back.task["predictions"][0]["result"] == original
    assert back.dropped == () and back.origin is not None
    assert back.task["data"] == {
        k: task["data"][k] for k in ("text", "article_id", "text_sha256", "title")
    }


def test_reverse_without_a_config_takes_the_first_name_listed():
    reverse = Scheme.from_json(_drafted(Person_old="PER")).reverse()
    assert reverse.spans["PER"] == ("ner", "Person_old")
    assert reverse.spans["ORG"] == ("ner", "ORGANIZATION")
    assert reverse.relations == {"claimer": "said_by", "target": "about"}
    assert reverse.why == {}
    # the identity mapping writes claimwire's names
    same = Scheme.identity().reverse(Declared.of(LABEL_CONFIG.read_text(encoding="utf-8")))
    assert same.spans == {
        label: (c, label) for c, labels in SPAN_CONTROLS.items() for label in labels
    }
    task = _import_task(_seed_task())
    assert same.tasks([task]) == [task]


def test_a_canonical_name_with_no_place_in_the_project_stops_the_push_naming_it():
    doc = _drafted()
    doc["spans"]["ner"]["labels"]["Nationality"] = "drop"
    doc["relations"]["about"] = "drop"
    reverse = Scheme.from_json(doc, "scheme.json").reverse(Declared.of(FOREIGN_CONFIG))
    with pytest.raises(InvalidDataError) as err:
        reverse.tasks([_import_task(_seed_task())])
    norp, about = err.value.problems
    # counted in the annotation and the prediction alike
    assert norp.message == (
        "12 result(s) with the label 'NORP' have no place in the project: the scheme mapping "
        "maps no name of the project to it (or drops them all)"
    )
    assert norp.file == "scheme.json"
    assert norp.fix is not None and '"spans" > "<control>" > "labels"' in norp.fix
    assert '("<its name>": "NORP")' in norp.fix and "nothing was pushed" in norp.fix
    assert about.message.startswith("50 result(s) with the relation 'target' have no place")


def test_a_name_the_config_does_not_declare_is_not_written():
    doc = _drafted()
    doc["spans"]["ner"]["labels"] = {"Nation": "NORP", **doc["spans"]["ner"]["labels"]}
    doc["spans"]["ner"]["labels"]["Nationality"] = "drop"
    reverse = Scheme.from_json(doc).reverse(Declared.of(FOREIGN_CONFIG))
    assert "NORP" not in reverse.spans
    assert reverse.why[("label", "NORP")] == (
        "the project's labeling config declares none of its names in the mapping ('Nation')"
    )
    assert Scheme.from_json(doc).reverse().spans["NORP"] == ("ner", "Nation")
