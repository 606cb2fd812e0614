"""JSON Schemas of every report, generated from the report models.

``python -m ssdf_ai.report.schema DIR`` writes one ``<report>.schema.json`` per report type into
DIR (the project keeps them in ``docs/schema/``); a test checks that the committed files match
the models, so the published schemas cannot drift from what ``--format json`` writes.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from ssdf_ai._io import atomic_write
from ssdf_ai.report.base import Report

SCHEMA_BASE_URI = "https://ssdf-ai.dev/schema/"

# Every report a command can write, as "module:Class". Explicit, so the schemas are complete.
REPORTS: tuple[str, ...] = (
    "ssdf_ai.report.base:FindingsReport",
    "ssdf_ai.profile:ProfileListReport",
    "ssdf_ai.profile:ProfileShowReport",
    "ssdf_ai.config:ConfigValidationReport",
    "ssdf_ai.config:ConfigShowReport",
    "ssdf_ai.config:InitReport",
    "ssdf_ai.store.reports:EvidenceListReport",
    "ssdf_ai.store.reports:RunReport",
    "ssdf_ai.store.reports:ArtifactReport",
    "ssdf_ai.store.reports:AddReport",
    "ssdf_ai.store.reports:ExportReport",
    "ssdf_ai.store.reports:VerifyReport",
    "ssdf_ai.assess.model:Assessment",
    "ssdf_ai.assess.gate:GateReport",
    "ssdf_ai.assess.compare:CompareReport",
    "ssdf_ai.assess.docs:ControlsReport",
    "ssdf_ai.assess._decision_reports:KeyReport",
    "ssdf_ai.assess._decision_reports:DecisionReport",
    "ssdf_ai.scan.report:ScanReport",
    "ssdf_ai.scan.convert:ConvertReport",
    "ssdf_ai.integrity.report:HashReport",
    "ssdf_ai.integrity.report:SignReport",
    "ssdf_ai.integrity.report:VerifyReport",
    "ssdf_ai.integrity.report:DiffReport",
    "ssdf_ai.provenance.reports:RecordReport",
    "ssdf_ai.provenance.reports:ProvenanceListReport",
    "ssdf_ai.provenance.reports:ProvenanceVerifyReport",
    "ssdf_ai.provenance.reports:RegistrationReport",
    "ssdf_ai.provenance.reports:DataListReport",
    "ssdf_ai.data.report:DataCheckReport",
    "ssdf_ai.data.report:DataCleanReport",
    "ssdf_ai.data.report:DataAugmentReport",
    "ssdf_ai.code.code_report:CodeReport",
    "ssdf_ai.code.secrets_report:SecretsReport",
    "ssdf_ai.code.deps_report:DepsReport",
    "ssdf_ai.code.deps_report:AdvisoriesUpdateReport",
    "ssdf_ai.code.env_report:EnvReport",
    "ssdf_ai.release.report:ReleaseReport",
    "ssdf_ai.release.report:ReleaseVerifyReport",
)


def report_classes() -> list[type[Report]]:
    """Import and return every registered report class, in registry order."""
    classes: list[type[Report]] = []
    for entry in REPORTS:
        module_name, _, class_name = entry.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        if not (isinstance(cls, type) and issubclass(cls, Report)):
            raise TypeError(f"{entry} is not a Report subclass")
        classes.append(cls)
    return classes


def schema_for(cls: type[Report]) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one report class, as written in JSON mode.

    Args:
        cls: The report class.

    Returns:
        The schema, with ``$schema``, ``$id`` and the ``report`` field pinned to its type.
    """
    schema = cls.model_json_schema(mode="serialization")
    schema["properties"]["report"] = {
        "const": cls.report_type,
        "description": "The report type; names this schema.",
        "title": "Report",
    }
    required = [name for name in schema.get("required", []) if name != "report"]
    schema["required"] = ["report", *required]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE_URI}{cls.report_type}.schema.json",
        **schema,
    }


def render_schemas() -> dict[str, str]:
    """Return ``{file name: schema text}`` for every registered report."""
    files: dict[str, str] = {}
    for cls in report_classes():
        name = f"{cls.report_type}.schema.json"
        if name in files:
            raise ValueError(f"two report classes share the report type {cls.report_type!r}")
        files[name] = json.dumps(schema_for(cls), indent=2, sort_keys=True) + "\n"
    return files


def write_schemas(directory: Path) -> list[Path]:
    """Write every report schema into ``directory`` (atomically, one file each).

    Args:
        directory: Where to write; created if missing.

    Returns:
        The paths written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        atomic_write(directory / name, text)
        written.append(directory / name)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")
    for path in write_schemas(target):
        sys.stdout.write(f"{path}\n")
