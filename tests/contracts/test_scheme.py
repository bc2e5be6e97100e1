"""Scheme mappings: drafting one from a labeling config, the identity of the shipped scheme, and
the mapping file's own contract."""

import copy
from dataclasses import replace

import pytest
from support.foreign import FOREIGN_CONFIG

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
from builder.contracts.scheme import DEFAULTS_COMMENT, DROP, Scheme, draft_scheme, spelling
from builder.errors import InvalidDataError

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
