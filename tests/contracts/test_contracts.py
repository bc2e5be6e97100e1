"""The labeling config, the JSON Schemas and the datasets.Features describe the same data."""

from datasets import ClassLabel, List, Value
from label_studio_sdk.label_interface import LabelInterface

from builder.contracts.features import CONFIGS, features
from builder.contracts.labels import (
    ATTRIBUTIONS,
    ENTITY_LABELS,
    NER_TAGS,
    PORTRAYALS,
    RELATIONS,
    STANCES,
    load_label_config,
)
from builder.contracts.schemas import SCHEMA_NAMES, load_schema, reference_validator


def test_labeling_config_declares_exactly_the_schema_labels():
    config = load_label_config()
    assert config.spans == {"entity": ENTITY_LABELS, "claim": ("CLAIM",)}
    assert config.choices == {
        "stance": STANCES,
        "attribution": ATTRIBUTIONS,
        "portrayal": PORTRAYALS,
    }
    assert config.relations == RELATIONS


def test_label_studio_parses_our_config():
    li = LabelInterface(load_label_config().xml)
    assert sorted(li.controls, key=lambda c: c.name) and {c.name for c in li.controls} == {
        "entity",
        "claim",
        "stance",
        "attribution",
        "portrayal",
    }


def test_every_schema_is_valid_2020_12_with_an_id():
    for name in SCHEMA_NAMES:
        schema = load_schema(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith(f"/{name}.schema.json")
        reference_validator(name).check_schema(schema)


def _schema_type(prop: dict, defs: dict) -> object:
    """A comparable description of a JSON Schema property."""
    if "$ref" in prop:
        where, name = prop["$ref"].split("#/$defs/")
        target = (load_schema("labels") if where else defs)["$defs"][name]
        return _schema_type(target, defs)
    if "anyOf" in prop:
        return tuple(sorted(map(str, (_schema_type(p, defs) for p in prop["anyOf"]))))
    if "enum" in prop:
        return ("enum", tuple(prop["enum"]))
    t = prop["type"]
    if t == "array":
        return ("list", _schema_type(prop["items"], defs))
    if t == "object":
        return ("struct", {k: _schema_type(v, defs) for k, v in prop["properties"].items()})
    return tuple(t) if isinstance(t, list) else t


def _feature_type(f: object) -> object:
    if isinstance(f, ClassLabel):
        return ("enum", tuple(f.names))
    if isinstance(f, List):
        return ("list", _feature_type(f.feature))
    if isinstance(f, dict):
        return ("struct", {k: _feature_type(v) for k, v in f.items()})
    assert isinstance(f, Value)
    return {"string": "string", "int32": "integer", "float64": "number", "bool": "boolean"}[f.dtype]


def _compatible(schema_t: object, feature_t: object) -> bool:
    if isinstance(schema_t, tuple) and schema_t and schema_t[0] in ("list", "struct", "enum"):
        if schema_t[0] == "enum":
            # enums are stored as strings (documents) or as ClassLabel with the same names
            return feature_t == "string" or feature_t == schema_t
        if not isinstance(feature_t, tuple) or feature_t[0] != schema_t[0]:
            return False
        if schema_t[0] == "list":
            return _compatible(schema_t[1], feature_t[1])
        return schema_t[1].keys() == feature_t[1].keys() and all(
            _compatible(schema_t[1][k], feature_t[1][k]) for k in schema_t[1]
        )
    if isinstance(schema_t, tuple):  # ("null", "string") or an anyOf of null + enum
        non_null = [t for t in schema_t if t != "null" and "null" not in str(t)]
        return any(_compatible(t, feature_t) for t in non_null) or feature_t == "string"
    return schema_t == feature_t


def test_features_match_the_config_schemas():
    for config in CONFIGS:
        schema = load_schema(config)
        feats = features()[config]
        assert list(schema["properties"]) == list(feats), config
        assert set(schema["required"]) == set(feats), config
        for name, prop in schema["properties"].items():
            s, f = _schema_type(prop, schema), _feature_type(feats[name])
            assert _compatible(s, f), (config, name, s, f)


def test_class_label_names_come_from_the_label_sets():
    assert features()["entities"]["ner_tags"].feature.names == list(NER_TAGS)
    assert features()["stance"]["label"].names == list(STANCES)
    assert load_schema("entities")["properties"]["ner_tags"]["items"]["enum"] == list(NER_TAGS)
