"""A CycloneDX 1.6 ML-BOM (JSON) for a model.

:func:`cyclonedx_bom` gathers a :class:`~ssdf_ai.bom.model_info.ModelInfo` and translates it:

- ``metadata.component``: the model, type ``machine-learning-model``, with its digest (the OMS
  root of a folder, SHA-256 of a single file), licences, a ``pkg:generic`` purl carrying the
  digest, one nested ``file`` component per file with its SHA-256, the ``modelCard``
  (``modelParameters``, ``quantitativeAnalysis``, ``considerations``), ``pedigree.ancestors``
  (base models) and ``externalReferences`` (``digital-signature``, ``attestation``,
  ``model-card``);
- ``components``: a ``data`` component per dataset (``data[]`` with contents, classification,
  sensitive data and governance; provenance, registration and licence as properties), and a
  ``framework`` or ``library`` component per Python package (``pkg:pypi`` purl);
- ``dependencies``: the model depends on the packages;
- ``formulation``: one formula per recorded training run, a workflow with the command, times,
  datasets and base models as inputs and the model as output.

URLs that are paths (the signature, the model card, ``.intoto.jsonl``) are relative to the
project root. Everything is ordered deterministically: two BOMs of the same model differ only in
``serialNumber`` and ``metadata.timestamp``.
"""

from __future__ import annotations

import datetime as dt
import shlex
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssdf_ai._version import __version__
from ssdf_ai.bom._common import (
    TOOL_NAME,
    dumps,
    iri,
    license_expression,
    license_id,
    now,
    prune,
    stamp,
)
from ssdf_ai.bom.model_info import classification, gather_model_info

if TYPE_CHECKING:
    from ssdf_ai.bom.model_info import Ancestor, Dataset, ModelInfo, Package, TrainingRun
    from ssdf_ai.config import LoadedConfig

__all__ = ["CYCLONEDX_MEDIA_TYPE", "SCHEMA_URL", "cyclonedx_bom", "cyclonedx_from_info", "dumps"]

CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"
SCHEMA_URL = "http://cyclonedx.org/schema/bom-1.6.schema.json"
_APPROACHES = frozenset(
    {"supervised", "unsupervised", "reinforcement-learning", "semi-supervised", "self-supervised"}
)
_HEX64 = frozenset("0123456789abcdef")


def _hashes(digest: str | None) -> list[dict[str, str]]:
    if digest and len(digest) == 64 and set(digest) <= _HEX64:
        return [{"alg": "SHA-256", "content": digest}]
    if digest and len(digest) == 40 and set(digest) <= _HEX64:
        return [{"alg": "SHA-1", "content": digest}]
    return []


def _prop(name: str, value: object) -> dict[str, str] | None:
    if value is None or value == "" or value == ():
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    return {"name": f"ssdf:{name}", "value": str(value)}


def _props(*items: tuple[str, object]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for name, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            prop = _prop(name, v)
            if prop is not None:
                out.append(prop)
    return out


def _licenses(names: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """CycloneDX licences: an SPDX id where the name is one, else the name.

    A single ``LicenseRef-`` licence is written as an SPDX expression (CycloneDX allows one
    expression, or any number of licences, not both).
    """
    wanted = [n for n in names if n.strip().lower() not in ("noassertion", "none", "")]
    if len(wanted) == 1 and wanted[0].strip().startswith("LicenseRef-"):
        expression = license_expression(wanted[0])
        if expression is not None:
            return [{"expression": expression}]
    out: list[dict[str, Any]] = []
    for name in wanted:
        known = license_id(name)
        entry = {"license": {"id": known} if known else {"name": name}}
        if entry not in out:
            out.append(entry)
    return out


def model_ref(info: ModelInfo) -> str:
    """The model component's ``bom-ref``."""
    return f"model:{info.rel_path}"


def dataset_ref(dataset: Dataset) -> str:
    """A dataset component's ``bom-ref``."""
    return f"dataset:{dataset.key}"


def ancestor_ref(ancestor: Ancestor) -> str:
    """A base model's ``bom-ref``."""
    return f"base-model:{ancestor.name}"


def model_purl(info: ModelInfo) -> str:
    """``pkg:generic/<name>@<version>?checksum=sha256:<digest>``."""
    from urllib.parse import quote

    return (
        f"pkg:generic/{quote(info.name, safe='')}@{quote(info.version_label, safe='')}"
        f"?checksum=sha256:{info.digest}"
    )


def _model_card(info: ModelInfo) -> dict[str, Any]:
    card = info.card
    approach = info.approach if info.approach in _APPROACHES else None
    ethical: list[dict[str, str]] = [
        {"name": text, "mitigationStrategy": "\n\n".join(card.recommendations)}
        for text in card.risks
    ]
    if not ethical and card.recommendations:
        ethical = [
            {"name": "See recommendations", "mitigationStrategy": t} for t in card.recommendations
        ]
    environmental = _props(
        *(("card-environmental", t) for t in card.environmental),
        *((f"co2-eq-emissions:{k}", v) for k, v in info.emissions),
    )
    return {
        "bom-ref": f"{model_ref(info)}#model-card",
        "modelParameters": {
            "approach": {"type": approach} if approach else None,
            "task": info.task,
            "architectureFamily": info.model_type,
            "modelArchitecture": info.architecture,
            "datasets": [{"ref": dataset_ref(d)} for d in info.datasets],
            "inputs": [{"format": info.input_format}] if info.input_format else [],
            "outputs": [{"format": info.output_format}] if info.output_format else [],
        },
        "quantitativeAnalysis": {
            "performanceMetrics": [
                {"type": m.type, "value": m.value, "slice": m.slice} for m in info.metrics
            ]
        },
        "considerations": {
            "users": list(card.users),
            "useCases": list(dict.fromkeys((*info.intended_use, *card.use_cases))),
            "technicalLimitations": [
                *card.limitations,
                *(f"Out of scope: {t}" for t in card.out_of_scope),
            ],
            "ethicalConsiderations": ethical,
            "fairnessAssessments": [
                {"harms": t, "mitigationStrategy": "\n\n".join(card.recommendations)}
                for t in card.fairness
            ],
            "environmentalConsiderations": {"properties": environmental},
        },
        "properties": _props(
            *((f"hyperparameter:{k}", v) for k, v in info.hyperparameters),
            ("parameters", info.parameters),
            ("domain", info.domain),
            ("justification", info.justification),
            ("safety-risk-assessment", info.risk),
            ("standard-compliance", info.standards),
            ("training-information", info.card.training),
            ("data-preprocessing", info.card.preprocessing),
        ),
    }


def _external_references(info: ModelInfo) -> list[dict[str, Any]]:
    refs: list[dict[str, Any]] = []
    for sig in info.signatures:
        state = "the current model" if sig.current else "an earlier version of the model"
        signs = (
            f"; signs OMS root {sig.root} ({state})" if sig.root else "; the signed root is unread"
        )
        refs.append(
            {
                "type": "digital-signature",
                "url": iri(sig.location),
                "comment": f"OpenSSF model signature (Sigstore bundle) from the {sig.found_in}"
                + signs,
                "hashes": _hashes(sig.sha256),
            }
        )
    refs += [
        {
            "type": "attestation",
            "url": f".intoto.jsonl#L{run.line}",
            "comment": (
                f"SLSA provenance v1 in a DSSE envelope (ssdf record), invocationId "
                f"{run.invocation_id}; "
                + (f"signed by {run.signer}, verified" if run.verified else "NOT verified")
            ),
            "hashes": _hashes(run.line_sha256),
        }
        for run in info.runs
    ]
    if info.card_path:
        refs.append(
            {
                "type": "model-card",
                "url": iri(info.card_path),
                "comment": "Hugging Face model card",
                "hashes": _hashes(info.card_sha256),
            }
        )
    return refs


def _ancestor(ancestor: Ancestor) -> dict[str, Any]:
    refs = (
        [{"type": "distribution", "url": f"https://huggingface.co/{ancestor.hub_id}"}]
        if ancestor.hub_id
        else []
    )
    return {
        "type": "machine-learning-model",
        "bom-ref": ancestor_ref(ancestor),
        "name": ancestor.name,
        "hashes": _hashes(ancestor.digest),
        "purl": ancestor.purl,
        "externalReferences": refs,
        "properties": _props(("path", ancestor.path), ("found-in", ancestor.found_in)),
    }


def _model(info: ModelInfo) -> dict[str, Any]:
    ref = model_ref(info)
    files = [
        {
            "type": "file",
            "bom-ref": f"{ref}#file:{f.path}",
            "name": f.path,
            "hashes": _hashes(f.sha256),
            "properties": _props(("size", f.size), ("weights", f.weights), ("format", f.format)),
        }
        for f in info.files
    ]
    return {
        "type": "machine-learning-model",
        "bom-ref": ref,
        "supplier": {"name": info.supplier},
        "name": info.name,
        "version": info.version_label,
        "description": info.description,
        "hashes": _hashes(info.digest),
        "licenses": _licenses(info.licenses),
        "purl": model_purl(info),
        "pedigree": {"ancestors": [_ancestor(a) for a in info.ancestors]},
        "externalReferences": _external_references(info),
        "components": files,
        "modelCard": _model_card(info),
        "properties": _props(
            ("path", info.rel_path),
            ("digest-method", info.digest_method),
            ("oms-root", info.oms_root),
            ("files", info.files_total),
            ("formats", info.formats),
            ("parameters", info.parameters),
            ("language", info.languages),
            ("warning", info.warnings),
        ),
        "tags": list(info.tags),
    }


def _dataset(dataset: Dataset) -> dict[str, Any]:
    level = classification(dataset)
    contents = dataset.source or dataset.path
    governance = (
        {"custodians": [{"contact": {"name": dataset.registered_by}}]}
        if dataset.registered_by
        else {}
    )
    return {
        "type": "data",
        "bom-ref": dataset_ref(dataset),
        "name": dataset.name,
        "description": dataset.description,
        "hashes": _hashes(dataset.digest),
        "licenses": _licenses([dataset.license] if dataset.license else []),
        "data": [
            {
                "type": "dataset",
                "name": dataset.name,
                "contents": {"url": iri(contents)} if contents else None,
                "classification": level[0] if level else None,
                "sensitiveData": list(dataset.sensitive),
                "governance": governance,
                "description": dataset.description,
            }
        ],
        "properties": _props(
            ("provenance", dataset.provenance),
            ("registered", dataset.registered),
            ("license", dataset.license or "NOASSERTION"),
            ("path", dataset.path),
            ("source", dataset.source),
            ("digest-method", dataset.digest_method),
            ("use", dataset.uses),
            ("found-in", dataset.found_in),
            ("registered-at", dataset.registered_at),
            ("sensitive-personal-information", dataset.personal),
        ),
    }


def _package(package: Package) -> dict[str, Any]:
    return {
        "type": "framework" if package.framework else "library",
        "bom-ref": package.purl,
        "name": package.name,
        "version": package.version,
        "purl": package.purl,
        "properties": _props(("found-in", package.found_in)),
    }


def _resource(name: str, digest: str | None, kind: str) -> dict[str, Any]:
    kinds = {"config": "configuration", "code": "vcs" if name.startswith("git+") else "other"}
    return {
        "externalReference": {
            "type": kinds.get(kind, "other"),
            "url": iri(name),
            "comment": f"{kind} input",
            "hashes": _hashes(digest),
        }
    }


def _formula(info: ModelInfo, run: TrainingRun) -> dict[str, Any]:
    datasets = {d.key: d for d in info.datasets}
    ancestors = {a.path: a for a in info.ancestors if a.path}
    inputs: list[dict[str, Any]] = []
    for item in run.inputs:
        if item.kind == "dataset" and item.name in datasets:
            inputs.append({"resource": {"ref": dataset_ref(datasets[item.name])}})
        elif item.kind == "model" and item.name in ancestors:
            inputs.append({"resource": {"ref": ancestor_ref(ancestors[item.name])}})
        else:
            inputs.append({"resource": _resource(item.name, item.digest, item.kind)})
    command = shlex.join(run.command) if run.command else None
    times = {"timeStart": run.started_on or None, "timeEnd": run.finished_on or None}
    uid = run.invocation_id or f"line-{run.line}"
    return {
        "bom-ref": f"formula:{uid}",
        "workflows": [
            {
                "bom-ref": f"workflow:{uid}",
                "uid": uid,
                "name": run.name or "training",
                "description": "Training run recorded by `ssdf record` (SLSA provenance v1 in "
                f"DSSE, .intoto.jsonl line {run.line})",
                "taskTypes": ["build"],
                "tasks": [
                    {
                        "bom-ref": f"task:{uid}",
                        "uid": f"{uid}/command",
                        "name": "command",
                        "taskTypes": ["build"],
                        "steps": [
                            {"name": "command", "commands": [{"executed": command}]}
                            if command
                            else {"name": "command"}
                        ],
                        **times,
                    }
                ],
                "inputs": inputs,
                "outputs": [{"type": "artifact", "resource": {"ref": model_ref(info)}}],
                **times,
                "properties": _props(
                    ("exit-code", run.exit_code),
                    ("signer", run.signer),
                    ("verified", run.verified),
                    ("problem", run.problems),
                    ("matches-model", run.matches_model),
                    ("build-type", run.build_type),
                    ("builder-id", run.builder_id),
                    *((f"git:{k}", v) for k, v in run.git),
                    *((f"environment:{k}", v) for k, v in run.environment),
                ),
            }
        ],
    }


def cyclonedx_from_info(
    info: ModelInfo,
    *,
    serial_number: uuid.UUID | None = None,
    timestamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """Translate gathered model information into a CycloneDX 1.6 BOM (a JSON object)."""
    components = [
        *(_dataset(d) for d in info.datasets),
        *(_package(p) for p in info.packages),
    ]
    bom: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{serial_number or uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": stamp(now(timestamp)),
            "tools": {
                "components": [
                    {
                        "type": "application",
                        "bom-ref": f"tool:{TOOL_NAME}",
                        "name": TOOL_NAME,
                        "version": __version__,
                        "purl": f"pkg:pypi/{TOOL_NAME}@{__version__}",
                    }
                ]
            },
            "component": _model(info),
            "supplier": {"name": info.supplier},
        },
        "components": components,
        "dependencies": [
            {"ref": model_ref(info), "dependsOn": [p.purl for p in info.packages]},
            *({"ref": p.purl} for p in info.packages),
        ],
        "formulation": [_formula(info, run) for run in info.runs],
    }
    pruned: dict[str, Any] = prune(bom)
    return pruned


def cyclonedx_bom(
    root: Path,
    model: Path,
    *,
    loaded_config: LoadedConfig | None = None,
    info: ModelInfo | None = None,
    serial_number: uuid.UUID | None = None,
    timestamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """A CycloneDX 1.6 ML-BOM for the model at ``model`` in the project at ``root``.

    Args:
        root: The project root (recorded runs, evidence store, configuration).
        model: The model folder or file.
        loaded_config: The project's configuration; loaded from ``root`` when ``None``.
        info: Already gathered information (skips reading the model again).
        serial_number: The BOM's serial number (default: a random UUID).
        timestamp: The BOM's time (default: ``SOURCE_DATE_EPOCH``, else now).

    Returns:
        The BOM as a JSON object; :func:`dumps` writes it.

    Raises:
        InputError: The model does not exist or cannot be read.
    """
    if info is None:
        info = gather_model_info(Path(root), Path(model), loaded_config=loaded_config)
    return cyclonedx_from_info(info, serial_number=serial_number, timestamp=timestamp)
