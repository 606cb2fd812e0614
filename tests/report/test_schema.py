"""The published JSON Schemas match the report models, and real reports validate against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ssdf_ai.report.schema import render_schemas, report_classes, schema_for

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schema"


def test_committed_schemas_match_the_models() -> None:
    expected = render_schemas()
    committed = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.schema.json")}
    stale = sorted(name for name in expected if committed.get(name) != expected[name])
    extra = sorted(set(committed) - set(expected))
    assert not stale, f"docs/schema is out of date for {stale}: run `make schemas`"
    assert not extra, f"docs/schema has schemas of no report: {extra}"


@pytest.mark.parametrize("cls", report_classes(), ids=lambda c: c.report_type)
def test_every_schema_is_a_valid_json_schema(cls: type) -> None:
    schema = schema_for(cls)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["report"] == {
        "const": cls.report_type,
        "description": "The report type; names this schema.",
        "title": "Report",
    }


def test_report_field_of_the_wrong_type_is_rejected() -> None:
    schema = json.loads((SCHEMA_DIR / "findings.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = {"report": "findings", "tool": {"name": "ssdf-ai", "version": "0"}, "findings": []}
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "report": "profile-list"})
    assert not validator.is_valid({**good, "unexpected": 1})
