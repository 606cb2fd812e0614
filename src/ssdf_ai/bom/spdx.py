"""An SPDX 3.0.1 JSON-LD document for a model, with the AI, Dataset and Build profiles.

:func:`spdx_document` gathers a :class:`~ssdf_ai.bom.model_info.ModelInfo` and writes a
JSON-LD document (``@context`` the SPDX 3.0.1 context, every element in ``@graph``):

- one ``CreationInfo`` (blank node), the ``Tool`` ssdf-ai, the supplier ``Organization``, and
  the ``SpdxDocument`` whose root element is the model;
- the model as an ``ai_AIPackage`` (type of model, domain, limitation, hyperparameters from
  ``config.json``, training information, metrics, sensitive personal information, safety risk,
  standards, primary purpose ``model``, release time, version, download location, supplier,
  and its digest in ``verifiedUsing``), with a ``software_File`` per file (``contains``);
- a ``dataset_DatasetPackage`` per dataset (dataset type, confidentiality level, sensitive
  personal information, data collection process, originator, digest);
- a ``software_Package`` per Python package (``pkg:pypi`` purl) and per base model;
- a ``build_Build`` per recorded training run (build id, times, command, environment);
- licences as ``simplelicensing_LicenseExpression`` elements;
- ``Relationship`` elements: ``trainedOn``, ``testedOn``, ``ancestorOf``, ``dependsOn``
  (lifecycle-scoped: ``build`` for packages of the recorded run, else ``runtime``), ``usesTool``,
  ``hasInput``, ``hasOutput``, ``contains``, ``hasDocumentation`` and ``hasDeclaredLicense``.

Element ids are IRIs under a namespace derived from the model's digest, so two documents of the
same model differ only in ``created``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shlex
import uuid
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ssdf_ai._version import __version__
from ssdf_ai.bom._common import TOOL_NAME, iri, license_expression, now, prune, stamp
from ssdf_ai.bom.model_info import _utc, classification, gather_model_info

if TYPE_CHECKING:
    from ssdf_ai.bom.model_info import Dataset, ModelInfo, TrainingRun
    from ssdf_ai.config import LoadedConfig

__all__ = ["SPDX_CONTEXT", "SPDX_MEDIA_TYPE", "spdx_document", "spdx_from_info"]

SPDX_CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
SPDX_MEDIA_TYPE = "application/spdx+json"
NAMESPACE_BASE = "https://spdx.org/spdxdocs/ssdf-ai/"
CREATION_INFO = "_:creationinfo"
BUILD_TYPE = "https://ssdf-ai.dev/record/v1"

_DATA_TYPES: dict[str, str] = {
    ".csv": "structured",
    ".tsv": "structured",
    ".parquet": "structured",
    ".jsonl": "structured",
    ".json": "structured",
    ".arrow": "structured",
    ".feather": "structured",
    ".xlsx": "structured",
    ".sqlite": "structured",
    ".txt": "text",
    ".md": "text",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".gif": "image",
    ".bmp": "image",
    ".tif": "image",
    ".tiff": "image",
    ".webp": "image",
    ".wav": "audio",
    ".mp3": "audio",
    ".flac": "audio",
    ".ogg": "audio",
    ".mp4": "video",
    ".avi": "video",
    ".mkv": "video",
    ".mov": "video",
    ".npy": "numeric",
    ".npz": "numeric",
}
_DOMAIN_TYPES = {
    "natural language processing": "text",
    "computer vision": "image",
    "audio": "audio",
    "speech recognition": "audio",
    "tabular data": "structured",
}
_DOC_SUFFIXES = frozenset({".md", ".txt", ".rst", ".html", ".pdf"})
_CONFIG_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".toml", ".cfg", ".ini"})


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "x"


def _short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _hash(digest: str | None, comment: str | None = None) -> list[dict[str, Any]]:
    if not digest or not re.fullmatch(r"[0-9a-f]{64}|[0-9a-f]{40}", digest):
        return []
    algorithm = "sha256" if len(digest) == 64 else "sha1"
    return [{"type": "Hash", "algorithm": algorithm, "hashValue": digest, "comment": comment}]


def _entries(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for key, value in pairs:
        if key in seen:
            continue
        seen.add(key)
        out.append({"type": "DictionaryEntry", "key": key, "value": value})
    return out


def _presence(value: bool | None) -> str:
    return "noAssertion" if value is None else ("yes" if value else "no")


class _Graph:
    """The document under construction: elements in order, with ids and relationships."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.elements: list[dict[str, Any]] = []
        self.ids: set[str] = set()
        self.relationships = 0
        self.licenses: dict[str, str] = {}
        self.agents: dict[str, str] = {}

    def id(self, kind: str, name: str) -> str:
        return f"{self.namespace}/{kind}/{name}"

    def add(self, element: dict[str, Any]) -> str:
        spdx_id: str = element["spdxId"]
        if spdx_id in self.ids:
            return spdx_id
        self.ids.add(spdx_id)
        element.setdefault("creationInfo", CREATION_INFO)
        self.elements.append(prune(element))
        return spdx_id

    def relate(
        self,
        source: str,
        kind: str,
        targets: list[str],
        *,
        scope: str | None = None,
        comment: str | None = None,
    ) -> None:
        targets = list(dict.fromkeys(targets))
        if not targets:
            return
        self.relationships += 1
        element: dict[str, Any] = {
            "type": "LifecycleScopedRelationship" if scope else "Relationship",
            "spdxId": self.id("relationship", str(self.relationships)),
            "from": source,
            "relationshipType": kind,
            "to": targets,
            "comment": comment,
        }
        if scope:
            element["scope"] = scope
        self.add(element)

    def agent(self, name: str, kind: str = "Organization") -> str:
        if name not in self.agents:
            self.agents[name] = self.add(
                {"type": kind, "spdxId": self.id("agent", _slug(name)), "name": name}
            )
        return self.agents[name]

    def license(self, text: str | None) -> str | None:
        expression = license_expression(text) if text else None
        if expression is None:
            return None
        if expression not in self.licenses:
            self.licenses[expression] = self.add(
                {
                    "type": "simplelicensing_LicenseExpression",
                    "spdxId": self.id("license", _short(expression)),
                    "simplelicensing_licenseExpression": expression,
                }
            )
        return self.licenses[expression]


def namespace_for(info: ModelInfo) -> str:
    """The IRI under which the document's elements are named (stable for the same model)."""
    stable = uuid.uuid5(uuid.NAMESPACE_URL, f"{NAMESPACE_BASE}{info.rel_path}#{info.digest}")
    return f"{NAMESPACE_BASE}{_slug(info.name)}-{stable}"


def _originator(graph: _Graph, dataset: Dataset, supplier: str) -> str:
    source = dataset.source or ""
    if source.startswith("hf://datasets/") or source.startswith("https://huggingface.co/"):
        parts = source.split("datasets/", 1)[-1].split("/")
        owner = parts[0] if len(parts) > 1 else "Hugging Face Hub"
        return graph.agent(f"{owner} (Hugging Face Hub)" if len(parts) > 1 else owner)
    if source.startswith(("internal:", "file:")) or (not source and dataset.path):
        return graph.agent(supplier)
    host = urlsplit(source).netloc if source else ""
    if host:
        return graph.agent(host)
    return graph.agent("unknown originator (provenance not recorded)", "Agent")


def _dataset_type(info: ModelInfo, dataset: Dataset) -> list[str]:
    """SPDX dataset types: by the dataset's file types, else the model's domain."""
    types = sorted({_DATA_TYPES[s] for s in dataset.suffixes if s in _DATA_TYPES})
    if not types:
        types = sorted({_DOMAIN_TYPES[d] for d in info.domain if d in _DOMAIN_TYPES})
    return types or ["noAssertion"]


def _collection(dataset: Dataset) -> str:
    parts = []
    if dataset.source:
        parts.append(f"Obtained from {dataset.source}.")
    if dataset.registered:
        parts.append(
            "Registered in the project's dataset registry"
            + (f" by {dataset.registered_by}" if dataset.registered_by else "")
            + (f" on {dataset.registered_at}" if dataset.registered_at else "")
            + f"; provenance {dataset.provenance}."
        )
    else:
        parts.append("Not registered in the project's dataset registry: provenance unrecorded.")
    if dataset.description:
        parts.append(dataset.description)
    return " ".join(parts)


def _training_information(info: ModelInfo) -> str | None:
    parts: list[str] = list(info.card.training)
    for run in info.runs:
        datasets = ", ".join(run.dataset_keys) or "no registered dataset"
        parts.append(
            f"Recorded training run {run.name or run.invocation_id} ({run.invocation_id}): "
            f"`{shlex.join(run.command)}` from {run.started_on} to {run.finished_on}, "
            f"exit code {run.exit_code}, datasets: {datasets}; provenance "
            + (f"signed by {run.signer}." if run.verified else "NOT verified.")
        )
    return "\n\n".join(parts) or None


def _build(graph: _Graph, info: ModelInfo, run: TrainingRun) -> str:
    uid = run.invocation_id or f"line-{run.line}"
    config_digest: list[dict[str, Any]] = []
    config_uri: list[str] = []
    git = dict(run.git)
    if git.get("uri"):
        config_uri.append(iri(git["uri"]))
        config_digest = _hash(git.get("commit"), "git commit")
    return graph.add(
        {
            "type": "build_Build",
            "spdxId": graph.id("build", _slug(uid)),
            "name": run.name or "training",
            "comment": f"Training run recorded by `ssdf record` in .intoto.jsonl line {run.line}"
            + (f"; signed by {run.signer}" if run.verified else "; NOT verified")
            + (f"; problems: {'; '.join(run.problems)}" if run.problems else ""),
            "build_buildType": run.build_type or BUILD_TYPE,
            "build_buildId": uid,
            "build_buildStartTime": _utc(run.started_on),
            "build_buildEndTime": _utc(run.finished_on),
            "build_configSourceUri": config_uri,
            "build_configSourceDigest": config_digest,
            "build_parameter": _entries(
                [("command", shlex.join(run.command))] if run.command else []
            ),
            "build_environment": _entries(
                [
                    *run.environment,
                    *([("exitCode", str(run.exit_code))] if run.exit_code is not None else []),
                ]
            ),
            "externalRef": [
                {
                    "type": "ExternalRef",
                    "externalRefType": "buildMeta",
                    "locator": [f".intoto.jsonl#L{run.line}"],
                    "contentType": "application/vnd.dsse.envelope.v1+json",
                    "comment": "SLSA provenance v1 in a DSSE envelope"
                    + (f", SHA-256 of the line {run.line_sha256}" if run.line_sha256 else ""),
                }
            ],
        }
    )


# What the AI and Dataset profiles require of their packages beyond the core model (SPDX 3.0.1
# "External properties restrictions": minCount 1).
AI_REQUIRED = (
    "suppliedBy",
    "software_downloadLocation",
    "software_packageVersion",
    "software_primaryPurpose",
    "releaseTime",
)
DATASET_REQUIRED = (
    "originatedBy",
    "software_downloadLocation",
    "software_primaryPurpose",
    "releaseTime",
    "builtTime",
)


def _profiles(elements: list[dict[str, Any]]) -> list[str]:
    """The profiles beyond core and software that every element of theirs conforms to."""
    out: list[str] = []
    checks = (
        ("ai", "ai_AIPackage", AI_REQUIRED),
        ("build", "build_Build", ()),
        ("dataset", "dataset_DatasetPackage", DATASET_REQUIRED),
        ("simpleLicensing", "simplelicensing_LicenseExpression", ()),
    )
    for profile, kind, required in checks:
        members = [e for e in elements if e["type"] == kind]
        if members and all(all(e.get(key) for key in required) for e in members):
            out.append(profile)
    return out


def _file_purpose(name: str, weights: bool) -> str:
    if weights:
        return "model"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _DOC_SUFFIXES:
        return "documentation"
    if suffix in _CONFIG_SUFFIXES:
        return "configuration"
    return "other"


def spdx_from_info(  # noqa: C901, PLR0912, PLR0915 - one document, built in order
    info: ModelInfo,
    *,
    timestamp: dt.datetime | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """Translate gathered model information into an SPDX 3.0.1 JSON-LD document."""
    graph = _Graph(namespace or namespace_for(info))
    supplier = graph.agent(info.supplier)
    tool = graph.add(
        {
            "type": "Tool",
            "spdxId": graph.id("tool", TOOL_NAME),
            "name": f"{TOOL_NAME} {__version__}",
        }
    )
    document_id = graph.id("document", "bom")
    model_id = graph.id("model", _slug(info.name))

    # the model
    limitations = [*info.card.limitations, *(f"Out of scope: {t}" for t in info.card.out_of_scope)]
    application = [*info.intended_use, *info.card.use_cases]
    external_refs: list[dict[str, Any]] = [
        {
            "type": "ExternalRef",
            "externalRefType": "other",
            "locator": [iri(sig.location)],
            "contentType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "comment": f"OpenSSF model signature from the {sig.found_in} (SHA-256 {sig.sha256})"
            + (
                f"; signs OMS root {sig.root}"
                + (" (the current model)" if sig.current else " (an earlier version)")
                if sig.root
                else ""
            ),
        }
        for sig in info.signatures
    ]
    if info.card_path:
        external_refs.append(
            {
                "type": "ExternalRef",
                "externalRefType": "documentation",
                "locator": [iri(info.card_path)],
                "contentType": "text/markdown",
                "comment": "Hugging Face model card",
            }
        )
    comment_parts = [f"Project path {info.rel_path}."]
    if info.parameters is not None:
        comment_parts.append(f"{info.parameters} parameters.")
    if info.justification:
        comment_parts.append(f"Justification: {info.justification}")
    comment_parts += [f"Warning: {w}" for w in info.warnings]
    graph.add(
        {
            "type": "ai_AIPackage",
            "spdxId": model_id,
            "name": info.name,
            "summary": info.description[:300] if info.description else None,
            "description": info.description,
            "comment": " ".join(comment_parts),
            "software_packageVersion": info.version_label,
            "software_downloadLocation": iri(info.rel_path),
            "software_primaryPurpose": "model",
            "releaseTime": info.release_time,
            "suppliedBy": supplier,
            "verifiedUsing": _hash(
                info.digest,
                "OpenSSF model signing root (SHA-256 over the files' SHA-256 digests in name order)"
                if info.digest_method == "oms-root"
                else "SHA-256 of the model file",
            ),
            "externalRef": external_refs,
            "ai_typeOfModel": list(
                dict.fromkeys(t for t in (info.model_type, info.architecture) if t)
            ),
            "ai_domain": list(info.domain),
            "ai_limitation": "\n\n".join(limitations) or None,
            "ai_hyperparameter": _entries(info.hyperparameters),
            "ai_informationAboutTraining": _training_information(info),
            "ai_informationAboutApplication": "\n\n".join(application) or None,
            "ai_metric": _entries(
                [(f"{m.type} ({m.slice})" if m.slice else m.type, m.value) for m in info.metrics]
            ),
            "ai_modelDataPreprocessing": list(info.card.preprocessing),
            "ai_safetyRiskAssessment": info.risk,
            "ai_useSensitivePersonalInformation": _presence(info.uses_personal_data),
            "ai_standardCompliance": list(info.standards),
        }
    )

    # its files
    file_ids: list[str] = []
    card_id: str | None = None
    for index, f in enumerate(info.files):
        file_id = graph.add(
            {
                "type": "software_File",
                "spdxId": graph.id("file", f"{_slug(info.name)}-{index}"),
                "name": info.file_location(f.path),
                "software_fileKind": "file",
                "software_primaryPurpose": _file_purpose(f.path, f.weights),
                "verifiedUsing": _hash(f.sha256),
            }
        )
        file_ids.append(file_id)
        if info.card_path and info.file_location(f.path) == info.card_path:
            card_id = file_id
    graph.relate(model_id, "contains", file_ids)
    if card_id:
        graph.relate(model_id, "hasDocumentation", [card_id])
    for text in info.licenses:
        license_id = graph.license(text)
        if license_id:
            graph.relate(model_id, "hasDeclaredLicense", [license_id])

    # datasets
    dataset_ids: dict[str, str] = {}
    for dataset in info.datasets:
        level = classification(dataset)
        dataset_id = graph.add(
            {
                "type": "dataset_DatasetPackage",
                "spdxId": graph.id("dataset", _short(dataset.key)),
                "name": dataset.name,
                "description": dataset.description,
                "comment": "; ".join(
                    [
                        f"provenance {dataset.provenance}",
                        "registered" if dataset.registered else "not registered",
                        f"licence {dataset.license or 'NOASSERTION'}",
                        *(f"found in {f}" for f in dataset.found_in),
                        *(f"sensitive: {c}" for c in dataset.sensitive),
                        *(
                            []
                            if dataset.built_time
                            else ["build and release times unknown (no local copy)"]
                        ),
                    ]
                ),
                "software_packageVersion": f"sha256:{dataset.digest[:12]}"
                if dataset.digest
                else None,
                "software_downloadLocation": iri(dataset.source or dataset.path or "") or None,
                "software_primaryPurpose": "data",
                "originatedBy": [_originator(graph, dataset, info.supplier)],
                "releaseTime": dataset.registered_at or dataset.built_time,
                "builtTime": dataset.built_time,
                "verifiedUsing": _hash(
                    dataset.digest,
                    "OpenSSF model signing root over the dataset's files"
                    if dataset.digest_method == "oms-root"
                    else None,
                ),
                "dataset_datasetType": _dataset_type(info, dataset),
                "dataset_confidentialityLevel": level[1] if level else None,
                "dataset_hasSensitivePersonalInformation": _presence(dataset.personal),
                "dataset_dataCollectionProcess": _collection(dataset),
            }
        )
        dataset_ids[dataset.key] = dataset_id
        license_id = graph.license(dataset.license)
        if license_id:
            graph.relate(dataset_id, "hasDeclaredLicense", [license_id])
    graph.relate(
        model_id, "trainedOn", [dataset_ids[d.key] for d in info.datasets if "training" in d.uses]
    )
    graph.relate(
        model_id, "testedOn", [dataset_ids[d.key] for d in info.datasets if "evaluation" in d.uses]
    )

    # base models
    ancestor_ids: dict[str, str] = {}
    for ancestor in info.ancestors:
        location = f"https://huggingface.co/{ancestor.hub_id}" if ancestor.hub_id else ancestor.path
        ancestor_id = graph.add(
            {
                "type": "software_Package",
                "spdxId": graph.id("base-model", _short(ancestor.name)),
                "name": ancestor.name,
                "comment": "; ".join(f"found in {f}" for f in ancestor.found_in),
                "software_packageUrl": ancestor.purl,
                "software_downloadLocation": iri(location) if location else None,
                "software_primaryPurpose": "model",
                "verifiedUsing": _hash(ancestor.digest),
            }
        )
        ancestor_ids[ancestor.name] = ancestor_id
        graph.relate(ancestor_id, "ancestorOf", [model_id])

    # packages
    from_run = any(p.found_in.startswith("recorded run") for p in info.packages)
    package_ids = [
        graph.add(
            {
                "type": "software_Package",
                "spdxId": graph.id("package", package.normalized),
                "name": package.name,
                "comment": f"found in {package.found_in}",
                "software_packageVersion": package.version,
                "software_packageUrl": package.purl,
                "software_downloadLocation": (
                    f"https://pypi.org/project/{package.normalized}/{package.version}/"
                    if package.version
                    else f"https://pypi.org/project/{package.normalized}/"
                ),
                "software_primaryPurpose": "framework" if package.framework else "library",
            }
        )
        for package in info.packages
    ]
    graph.relate(model_id, "dependsOn", package_ids, scope="build" if from_run else "runtime")

    # training runs
    for run in info.runs:
        build_id = _build(graph, info, run)
        inputs = [dataset_ids[k] for k in run.dataset_keys if k in dataset_ids]
        inputs += [
            ancestor_ids[a.name]
            for a in info.ancestors
            if a.path and a.path in {i.name for i in run.inputs}
        ]
        graph.relate(build_id, "hasInput", inputs)
        graph.relate(build_id, "hasOutput", [model_id])
        graph.relate(
            build_id,
            "usesTool",
            [graph.id("package", p.normalized) for p in info.packages if p.framework],
        )

    profiles = ["core", "software", *_profiles(graph.elements)]
    created = stamp(now(timestamp))
    creation = {
        "type": "CreationInfo",
        "@id": CREATION_INFO,
        "specVersion": "3.0.1",
        "created": created,
        "createdBy": [supplier],
        "createdUsing": [tool],
        "comment": f"Written by {TOOL_NAME} {__version__} (`ssdf bom --spdx`).",
    }
    document = {
        "type": "SpdxDocument",
        "spdxId": document_id,
        "creationInfo": CREATION_INFO,
        "name": f"AI BOM of {info.name}",
        "profileConformance": profiles,
        "rootElement": [model_id],
        "element": [e["spdxId"] for e in graph.elements],
    }
    return {"@context": SPDX_CONTEXT, "@graph": [creation, document, *graph.elements]}


def spdx_document(
    root: Path,
    model: Path,
    *,
    loaded_config: LoadedConfig | None = None,
    info: ModelInfo | None = None,
    timestamp: dt.datetime | None = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    """An SPDX 3.0.1 JSON-LD document for the model at ``model`` in the project at ``root``.

    Args:
        root: The project root (recorded runs, evidence store, configuration).
        model: The model folder or file.
        loaded_config: The project's configuration; loaded from ``root`` when ``None``.
        info: Already gathered information (skips reading the model again).
        timestamp: The ``created`` time (default: ``SOURCE_DATE_EPOCH``, else now).
        namespace: The IRI prefix of element ids (default: derived from the model's digest).

    Returns:
        The document as a JSON object; :func:`ssdf_ai.bom.dumps` writes it.

    Raises:
        InputError: The model does not exist or cannot be read.
    """
    if info is None:
        info = gather_model_info(Path(root), Path(model), loaded_config=loaded_config)
    return spdx_from_info(info, timestamp=timestamp, namespace=namespace)
