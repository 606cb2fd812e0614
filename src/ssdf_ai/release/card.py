"""Model cards and data cards, filled from evidence and never invented.

A model card (:func:`model_card`) is Markdown with a Hugging Face compatible YAML header. Every
statement in it comes from somewhere that can be checked, and says where:

* the project's ``[[models]]`` entry in ``ssdf.toml`` (name, justification, intended use,
  limitations, base model, licence), read defensively so that older configurations work;
* the model folder's own ``README.md`` (its YAML front matter and its "Intended use",
  "Limitations", "Training data" sections), quoted as the producer's statement, when the
  configuration says nothing;
* the evidence store: the newest signature (``ssdf sign``), verification (``ssdf verify``), scan
  covering the model's files (``ssdf scan``), assessment (``ssdf assess``), and dataset
  registrations (``ssdf data register``);
* the recorded training runs whose outputs include the model (``.intoto.jsonl``, read by
  :mod:`ssdf_ai.provenance.runs`), with their signatures checked against ``[[signers]]``;
* the project's ``SECURITY.md``, for how to report problems (RV.1.3.R2).

What is missing is written as a ``Not recorded: <what> — <how to record it>`` line, never left
out. A data card (:func:`data_card`) does the same for a dataset: its registration, its digest
now against the registered one, its size, and the recorded runs and models it fed.

Nothing here loads a model or runs code from the project: files are read as text (bounded) or
hashed, and YAML is parsed with ``yaml.safe_load``.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime as dt
import json
import os
import posixpath
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssdf_ai._version import __version__
from ssdf_ai.errors import Error, InputError

if TYPE_CHECKING:
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.findings import Severity
    from ssdf_ai.integrity.keys import PublicKey
    from ssdf_ai.provenance.registry import DatasetEntry
    from ssdf_ai.provenance.runs import RecordedRun
    from ssdf_ai.store import ArtifactRecord, EvidenceStore

__all__ = [
    "CARD_MEDIA_TYPE",
    "DATA_CARD_KIND",
    "MODEL_CARD_KIND",
    "Card",
    "data_card",
    "model_card",
]

MODEL_CARD_KIND = "model-card"
DATA_CARD_KIND = "data-card"
CARD_MEDIA_TYPE = "text/markdown"
SIGNATURE_KIND = "model-signature"
VERIFICATION_KIND = "verification-report"
SCAN_KIND = "scan-report"
ASSESSMENT_KIND = "assessment"
README_NAMES = ("README.md", "MODEL_CARD.md", "readme.md", "Readme.md")
SECURITY_POLICY_PATHS = ("SECURITY.md", ".github/SECURITY.md", "docs/SECURITY.md")
MAX_TEXT_BYTES = 1 << 20  # README, SECURITY.md, config.json: larger files are not read
MAX_FRONT_MATTER_CHARS = 64 << 10
MAX_REPORTS_EXAMINED = 500  # scan reports read back while looking for one covering the model
MAX_WALK_FILES = 1_000_000
# Keys of a Hugging Face model card's front matter that the generated header carries over.
HF_KEYS = (
    "language",
    "license",
    "license_name",
    "license_link",
    "library_name",
    "tags",
    "datasets",
    "metrics",
    "base_model",
    "pipeline_tag",
    "model-index",
)
NOT_RECORDED = "Not recorded"
RECORD_HINT = "record the training run with `ssdf record --output MODEL -- COMMAND`"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s)>\]*`'\"]+")
_PRIVATE_REPORTING = re.compile(r"private vulnerability report\w*|security advisor\w*", re.I)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SPDX_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


# -- the card ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Card:
    """A generated card.

    Attributes:
        kind: ``model-card`` or ``data-card`` (the evidence artifact kind).
        subject_kind: ``model`` or ``dataset``.
        subject: The path relative to the project root.
        digest: The subject's digest now: the model's OMS root, or the dataset's digest as the
            registry computes it (SHA-256 of a file, OMS root of a folder).
        text: The Markdown.
        missing: What the card could not find, one line each (also written in the card).
    """

    kind: str
    subject_kind: str
    subject: str
    digest: str | None
    text: str
    missing: tuple[str, ...]


class _Writer:
    """Markdown lines, with every gap recorded as a ``Not recorded`` line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.missing: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def section(self, title: str) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.lines += [f"## {title}", ""]

    def gap(self, what: str, how: str) -> None:
        self.missing.append(what)
        self.lines.append(f"- {NOT_RECORDED}: {what} — {how}")

    def quote(self, source: str, text: str) -> None:
        self.lines.append(f"From `{source}` (the producer's statement):")
        self.lines.append("")
        self.lines += [f"> {line}".rstrip() for line in text.strip().splitlines()]
        self.lines.append("")

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def _md(value: object) -> str:
    """Inline text from evidence, with characters that would start Markdown markup escaped."""
    text = " ".join(str(value).split())
    return re.sub(r"([\\`*_<>\[\]|])", r"\\\1", text)


def _code(value: object) -> str:
    text = " ".join(str(value).split()).replace("`", "'")
    return f"`{text}`"


# -- small readers ---------------------------------------------------------------------------


def _read_text(path: Path) -> str | None:
    """A small UTF-8 text file, or ``None`` when missing, too large, a link or not UTF-8."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_TEXT_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def relative_name(root: Path, path: Path) -> str:
    """``path`` relative to the project ``root`` (POSIX; ``.`` for the root itself).

    Raises:
        InputError: The path is outside the project.
    """
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(
            f"{path} is outside the project {root}",
            where=path,
            hint="give a path inside the project, or --project with the folder holding it",
        ) from None
    return rel or "."


def _under(name: str, rel: str) -> bool:
    name = posixpath.normpath(name.replace("\\", "/")).removeprefix("./")
    return rel == "." or name == rel or name.startswith(rel.rstrip("/") + "/")


@dataclasses.dataclass
class Readme:
    """A model folder's README: its front matter and its sections by heading."""

    path: Path
    front: dict[str, Any]
    sections: list[tuple[str, str]]
    front_error: str | None = None

    def find(self, pattern: str) -> tuple[str, str] | None:
        """The first section whose heading matches ``pattern`` (case-insensitive)."""
        regex = re.compile(pattern, re.I)
        for heading, body in self.sections:
            if regex.search(heading) and body.strip():
                return heading, body
        return None


def read_readme(folder: Path) -> Readme | None:
    """Parse the README of a model folder (front matter with ``yaml.safe_load``)."""
    import yaml

    for name in README_NAMES:
        path = folder / name
        text = _read_text(path)
        if text is None:
            continue
        front: dict[str, Any] = {}
        error: str | None = None
        body = text
        normalised = text.replace("\r\n", "\n")
        if normalised.startswith("---\n"):
            end = normalised.find("\n---", 3)
            if end != -1 and end <= MAX_FRONT_MATTER_CHARS:
                raw = normalised[4:end]
                body = normalised[end + 4 :].split("\n", 1)[-1]
                try:
                    loaded = yaml.safe_load(raw)
                except yaml.YAMLError as exc:
                    error = f"it is not valid YAML ({type(exc).__name__})"
                else:
                    if isinstance(loaded, dict):
                        front = {str(k): v for k, v in loaded.items()}
                    elif loaded is not None:
                        error = "it is not a YAML mapping"
        return Readme(path=path, front=front, sections=_sections(body), front_error=error)
    return None


def _sections(body: str) -> list[tuple[str, str]]:
    """Markdown sections as ``(heading, content up to the next heading of its level)``."""
    lines = body.splitlines()
    heads: list[tuple[int, int, str]] = []
    fence = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        match = None if fence else _HEADING.match(line)
        if match:
            heads.append((index, len(match.group(1)), match.group(2)))
    out: list[tuple[str, str]] = []
    for n, (index, level, title) in enumerate(heads):
        end = len(lines)
        for later, later_level, _ in heads[n + 1 :]:
            if later_level <= level:
                end = later
                break
        out.append((title, "\n".join(lines[index + 1 : end]).strip()))
    return out


def _json_file(path: Path) -> dict[str, Any] | None:
    text = _read_text(path)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def model_entry(loaded: LoadedConfig, rel: str) -> Any | None:
    """The ``[[models]]`` entry for ``rel``, if the configuration has that table and entry."""
    for entry in getattr(loaded.config, "models", ()) or ():
        path = getattr(entry, "path", None)
        if isinstance(path, str):
            normal = posixpath.normpath(path).removeprefix("./").rstrip("/") or "."
            if normal == rel:
                return entry
    return None


def _entry_text(entry: Any | None, field: str) -> str | None:
    value = getattr(entry, field, None) if entry is not None else None
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value if str(v).strip())
    return str(value).strip() or None if value is not None else None


def security_policy(root: Path) -> tuple[str, list[str]] | None:
    """The project's SECURITY.md (as the assessment finds it) and the contacts it names."""
    for candidate in SECURITY_POLICY_PATHS:
        text = _read_text(root / candidate)
        if text is None:
            continue
        contacts = [m.group(0).rstrip(".") for m in _EMAIL.finditer(text)]
        contacts += [m.group(0).rstrip(".,;:") for m in _URL.finditer(text)]
        private = _PRIVATE_REPORTING.search(text)
        if private:
            contacts.append(f"the repository's {private.group(0).lower()}")
        return candidate, list(dict.fromkeys(contacts))[:5]
    return None


# -- the evidence store ----------------------------------------------------------------------


@dataclasses.dataclass
class SignatureEvidence:
    """The newest ``model-signature`` artifact recorded for a subject."""

    artifact: ArtifactRecord
    data: bytes
    root: str | None
    key_hint: str | None
    signed_at: str | None


@dataclasses.dataclass
class VerificationEvidence:
    """The newest ``ssdf verify`` report recorded for a subject."""

    artifact: ArtifactRecord
    verified: bool
    signer: str | None
    root: str | None
    problems: list[str]


@dataclasses.dataclass
class ScanEvidence:
    """The newest scan report that covers a subject's files, cut down to those files."""

    artifact: ArtifactRecord
    data: bytes
    files: list[tuple[str, str]]
    skipped: list[tuple[str, str]]
    findings: list[dict[str, Any]]
    fail_on: str


@dataclasses.dataclass
class StoreEvidence:
    """What the evidence store holds about one subject."""

    signature: SignatureEvidence | None = None
    verification: VerificationEvidence | None = None
    scan: ScanEvidence | None = None
    assessment: ArtifactRecord | None = None
    assessment_data: bytes | None = None
    assessment_score: float | None = None
    registry: dict[str, DatasetEntry] = dataclasses.field(default_factory=dict)


def _statement_of_bundle(data: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A Sigstore bundle's DSSE statement (unverified: for display) and the bundle."""
    try:
        bundle = json.loads(data)
        payload = base64.b64decode(bundle["dsseEnvelope"]["payload"], validate=True)
        statement = json.loads(payload)
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(bundle, dict) or not isinstance(statement, dict):
        return None
    return statement, bundle


def _signature(store: EvidenceStore, rel: str) -> SignatureEvidence | None:
    for artifact in store.artifacts(SIGNATURE_KIND, subject=rel, limit=5):
        try:
            data = store.read_blob(artifact.digest)
        except Error:
            continue  # a damaged blob is reported by `ssdf evidence verify`
        parsed = _statement_of_bundle(data)
        root = hint = signed_at = None
        if parsed is not None:
            statement, bundle = parsed
            subjects = statement.get("subject")
            if isinstance(subjects, list) and subjects and isinstance(subjects[0], dict):
                digest = subjects[0].get("digest")
                root = digest.get("sha256") if isinstance(digest, dict) else None
            material = bundle.get("verificationMaterial")
            key = material.get("publicKey") if isinstance(material, dict) else None
            hint = key.get("hint") if isinstance(key, dict) else None
            predicate = statement.get("predicate")
            ext = predicate.get("ssdf_ai") if isinstance(predicate, dict) else None
            signed_at = ext.get("signed_at") if isinstance(ext, dict) else None
        return SignatureEvidence(
            artifact=artifact,
            data=data,
            root=root if isinstance(root, str) else None,
            key_hint=hint if isinstance(hint, str) else None,
            signed_at=signed_at if isinstance(signed_at, str) else None,
        )
    return None


def _verification(store: EvidenceStore, rel: str) -> VerificationEvidence | None:
    for artifact in store.artifacts(VERIFICATION_KIND, subject=rel, limit=5):
        try:
            report = json.loads(store.read_blob(artifact.digest))
        except (Error, ValueError):
            continue
        if not isinstance(report, dict):
            continue
        problems = [str(p) for p in report.get("problems") or []]
        problems += [
            f"{c.get('kind')} {c.get('name')}"
            for c in report.get("changes") or []
            if isinstance(c, dict)
        ]
        return VerificationEvidence(
            artifact=artifact,
            verified=report.get("verified") is True,
            signer=report.get("signer") if isinstance(report.get("signer"), str) else None,
            root=report.get("root") if isinstance(report.get("root"), str) else None,
            problems=problems,
        )
    return None


def latest_scan(store: EvidenceStore, rel: str) -> ScanEvidence | None:
    """The newest ``scan-report`` that scanned (or skipped) a file under ``rel``."""
    for artifact in store.artifacts(SCAN_KIND, limit=MAX_REPORTS_EXAMINED):
        try:
            data = store.read_blob(artifact.digest)
            report = json.loads(data)
        except (Error, ValueError):
            continue
        if not isinstance(report, dict):
            continue
        files = [
            (str(s.get("path")), str(s.get("format")))
            for s in report.get("scanned") or []
            if isinstance(s, dict) and _under(str(s.get("path")), rel)
        ]
        skipped = [
            (str(s.get("path")), str(s.get("reason")))
            for s in report.get("skipped") or []
            if isinstance(s, dict) and _under(str(s.get("path")), rel)
        ]
        if not files and not skipped:
            continue
        findings = [
            f
            for f in report.get("findings") or []
            if isinstance(f, dict) and _under(str((f.get("location") or {}).get("path") or ""), rel)
        ]
        return ScanEvidence(
            artifact=artifact,
            data=data,
            files=files,
            skipped=skipped,
            findings=findings,
            fail_on=str(report.get("fail_on") or "low"),
        )
    return None


def latest_assessment(store: EvidenceStore) -> tuple[ArtifactRecord, bytes] | None:
    """The newest recorded assessment and its bytes."""
    for artifact in store.artifacts(ASSESSMENT_KIND, limit=5):
        try:
            return artifact, store.read_blob(artifact.digest)
        except Error:
            continue
    return None


def open_store(root: Path, url: str | None) -> EvidenceStore | None:
    """The project's evidence store, or ``None`` when nothing was recorded yet."""
    from ssdf_ai.store import EvidenceStore

    if not EvidenceStore.exists(root, url=url):
        return None
    return EvidenceStore.open(root, url=url, create=False)


def gather_store(root: Path, rel: str, url: str | None) -> StoreEvidence:
    """Everything the evidence store holds about the subject ``rel``."""
    from ssdf_ai.provenance.registry import load_registry

    store = open_store(root, url)
    if store is None:
        return StoreEvidence()
    with store:
        evidence = StoreEvidence(
            signature=_signature(store, rel),
            verification=_verification(store, rel),
            scan=latest_scan(store, rel),
            registry=load_registry(store),
        )
        found = latest_assessment(store)
        if found is not None:
            evidence.assessment, evidence.assessment_data = found
            try:
                score = json.loads(found[1]).get("score")
            except (ValueError, AttributeError):
                score = None
            evidence.assessment_score = float(score) if isinstance(score, (int, float)) else None
    return evidence


# -- recorded training runs ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Runs:
    """The project's recorded runs (from ``.intoto.jsonl``), signatures checked.

    Attributes:
        items: The runs, oldest first.
    """

    items: tuple[RecordedRun, ...] = ()

    def producing(self, rel: str) -> list[RecordedRun]:
        """The runs whose outputs include the model (or a file under the folder) at ``rel``."""
        from ssdf_ai.provenance.runs import runs_producing

        return runs_producing(self.items, rel) if self.items else []


def trusted_keys(loaded: LoadedConfig) -> dict[str, PublicKey]:
    """The ``[[signers]]`` public keys that can be read (an unreadable key is not trusted)."""
    from ssdf_ai.provenance.runs import trusted_signers

    return trusted_signers(loaded.root)[0]


def recorded_runs(root: Path, trusted: Mapping[str, PublicKey]) -> Runs:
    """Every recorded run of the project, their signatures checked against ``trusted``."""
    from ssdf_ai.provenance.runs import load_runs

    return Runs(tuple(load_runs(root, trusted=dict(trusted))))


# Packages worth naming in a one-line environment summary (all are in the provenance).
KEY_PACKAGES = (
    "torch",
    "tensorflow",
    "jax",
    "keras",
    "transformers",
    "accelerate",
    "peft",
    "datasets",
    "safetensors",
    "onnx",
    "onnxruntime",
    "scikit-learn",
    "xgboost",
    "lightgbm",
    "numpy",
    "pandas",
    "skops",
)
METRICS_FILES = ("metrics.json", "eval_results.json", "all_results.json")
_NOT_METRICS = ("runtime", "per_second", "epoch", "samples", "steps", "flos", "step")


@dataclasses.dataclass(frozen=True)
class Metric:
    """A metric value, where it was read, and whether a recorded run wrote that file."""

    name: str
    value: float
    source: str
    recorded: bool = False


def _metrics(data: Any, source: str, *, recorded: bool) -> list[Metric]:
    """Numeric metrics of a metrics file: top-level values and one level of nesting."""
    import math

    found: list[Metric] = []

    def add(key: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        if not math.isfinite(value) or any(w in key.lower() for w in _NOT_METRICS):
            return
        if len(found) < 50:
            found.append(Metric(key, float(value), source, recorded))

    if isinstance(data, Mapping):
        for key, value in sorted(data.items(), key=lambda kv: str(kv[0])):
            if isinstance(value, Mapping):
                for inner, item in sorted(value.items(), key=lambda kv: str(kv[0])):
                    add(f"{key}.{inner}" if key != "metrics" else str(inner), item)
            else:
                add(str(key), value)
    return found


def environment_summary(run: RecordedRun) -> list[str]:
    """Python, key packages, GPU and CUDA, and the git state of a recorded run."""
    env = run.environment
    parts: list[str] = []
    python = env.get("python")
    version = python.get("version") if isinstance(python, Mapping) else python
    if version:
        parts.append(f"Python {_md(version)}")
    installed = {name.lower(): ver for name, ver in run.packages}
    key = [f"{n} {installed[n]}" for n in KEY_PACKAGES if n in installed]
    if key:
        parts.append(f"packages: {_md(', '.join(key))}")
    if run.packages:
        parts.append(f"{len(run.packages)} Python distribution(s) recorded")
    gpus = env.get("gpu")
    if isinstance(gpus, list) and gpus:
        names = [str(g.get("name")) for g in gpus if isinstance(g, Mapping) and g.get("name")]
        counts = collections.Counter(names)
        parts.append("GPU: " + _md(", ".join(f"{n}× {name}" for name, n in counts.items())))
    elif isinstance(gpus, list):
        parts.append("GPU: none detected")
    if env.get("cuda"):
        parts.append(f"CUDA {_md(env['cuda'])}")
    if run.git is not None:
        commit = run.git.get("commit")
        dirty = run.git.get("dirty")
        state = " (dirty: uncommitted changes)" if dirty is True else ""
        state = " (clean)" if dirty is False else state
        if commit:
            parts.append(f"git commit {_code(commit)}{state}")
    else:
        parts.append("git: not a git work tree")
    return parts


# -- model identity --------------------------------------------------------------------------


@dataclasses.dataclass
class ModelDigest:
    """The model's OMS root now, and how it compares with its newest recorded signature."""

    root: str | None
    signed_root: str | None
    changes: list[str]
    error: str | None = None

    @property
    def matches_signature(self) -> bool:
        """Whether the files are exactly what the signature covers."""
        return self.signed_root is not None and not self.changes and self.error is None


def model_digest(model: Path, signature: bytes | None) -> ModelDigest:
    """Hash the model as ``ssdf sign`` would, and compare it with a signature's statement.

    With a signature, the files are re-hashed with its settings (authenticity is not checked
    here; ``ssdf verify`` does that); without one, with the default settings.
    """
    import tempfile

    from ssdf_ai.integrity.manifest import (
        ManifestDigests,
        Serialization,
        iter_manifest,
        root_digest,
    )
    from ssdf_ai.integrity.oms import compare, parse_statement, read_bundle, with_signature_ignored

    default_sig = model / "model.sig" if model.is_dir() else model.with_name(model.name + ".sig")
    try:
        if signature is None:
            settings = with_signature_ignored(model, default_sig, Serialization())
            return ModelDigest(root_digest(iter_manifest(model, settings)), None, [])
        with tempfile.TemporaryDirectory(prefix="ssdf-card-") as tmp:
            sig_path = Path(tmp) / "model.sig"
            sig_path.write_bytes(signature)
            bundle, payload, _ = read_bundle(sig_path)
            signed = parse_statement(sig_path, bundle, payload)
            current = ManifestDigests()
            changes, _ = compare(signed, model, signature=default_sig, digests=current)
            now = current.root
            return ModelDigest(
                now, signed.root, [f"{c.kind} {c.name}" for c in changes] + signed.problems
            )
    except Error as exc:
        return ModelDigest(None, None, [], error=exc.message)


# -- licences and dataset ids for the header -------------------------------------------------


def _hf_license(value: object) -> tuple[str, str | None] | None:
    """The Hugging Face ``license`` value (lower-case SPDX id, or ``other`` and a name)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.upper() in ("NOASSERTION", "NONE", "UNKNOWN"):
        return None
    if text.startswith("LicenseRef-") or not _SPDX_LIKE.match(text):
        return "other", text.removeprefix("LicenseRef-")
    return text.lower(), None


def _hf_dataset_id(source: str) -> str | None:
    for prefix in ("hf://datasets/", "https://huggingface.co/datasets/"):
        if source.startswith(prefix):
            ident = source.removeprefix(prefix).split("@")[0].strip("/")
            parts = ident.split("/")
            return "/".join(parts[:2]) if ident else None
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if isinstance(v, (str, int, float))]
    return []


def _yaml_header(header: dict[str, Any]) -> str:
    import yaml

    if not header:
        return ""
    text: str = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{text}---\n\n"


# -- the model card --------------------------------------------------------------------------


@dataclasses.dataclass
class _Context:
    """What one model card is written from."""

    root: Path
    rel: str
    name: str
    entry: Any | None
    readme: Readme | None
    readme_rel: str | None
    hf_config: dict[str, Any] | None
    evidence: StoreEvidence
    producing: list[RecordedRun]
    digest: ModelDigest
    model: Path

    @property
    def front(self) -> dict[str, Any]:
        return self.readme.front if self.readme is not None else {}

    def section(self, pattern: str) -> tuple[str, str] | None:
        if self.readme is None or self.readme_rel is None:
            return None
        found = self.readme.find(pattern)
        return (self.readme_rel, found[1]) if found is not None else None


def model_card(
    root: Path,
    model: Path,
    *,
    loaded: LoadedConfig,
    url: str | None = None,
    now: dt.datetime | None = None,
    store: StoreEvidence | None = None,
    runs: Runs | None = None,
    signature: bytes | None = None,
) -> Card:
    """Write the model card of ``model`` from the project's evidence.

    Args:
        root: The project root.
        model: The model folder (or file), inside the project.
        loaded: The project's configuration.
        url: The evidence store's database URL (``None``: the SQLite file under ``.ssdf``).
        now: The time to date the card with (default: now).
        store: Evidence already gathered (:func:`gather_store`), to avoid reading it twice.
        runs: Recorded runs already loaded (:func:`recorded_runs`).
        signature: The model signature to name the digest from (default: the newest recorded
            one); a release passes the one it ships.

    Returns:
        The card.

    Raises:
        InputError: The model does not exist or lies outside the project.
    """
    if not model.exists():
        raise InputError(f"{model} does not exist", where=model, hint="give the model folder")
    rel = relative_name(root, model)
    now = now or dt.datetime.now(dt.UTC)
    entry = model_entry(loaded, rel)
    folder = model if model.is_dir() else model.parent
    readme = read_readme(folder)
    evidence = store if store is not None else gather_store(root, rel, url)
    if runs is None:
        runs = recorded_runs(root, trusted_keys(loaded))
    if signature is None and evidence.signature is not None:
        signature = evidence.signature.data
    name = _entry_text(entry, "name") or (
        str(readme.front.get("model_name") or "") if readme else ""
    )
    name = name or model.name
    if not name or name == ".":
        name = root.resolve().name
    ctx = _Context(
        root=root,
        rel=rel,
        name=name,
        entry=entry,
        readme=readme,
        readme_rel=relative_name(root, readme.path) if readme is not None else None,
        hf_config=_json_file(folder / "config.json"),
        evidence=evidence,
        producing=runs.producing(rel),
        digest=model_digest(model, signature),
        model=model,
    )

    w = _Writer()
    w.add(f"# Model card: {_md(name)}", "")
    w.add(
        f"Generated by ssdf-ai {__version__} on {now.strftime('%Y-%m-%d %H:%M UTC')} from the "
        "project's evidence. Every statement names its source; a line that starts with "
        f"*{NOT_RECORDED}* names missing evidence and the command that records it."
    )
    header = _model_details(w, ctx)
    _intended_use(w, ctx)
    _justification(w, ctx)
    hub_datasets = _training_data(w, ctx)
    _training_process(w, ctx)
    model_index = _evaluation(w, ctx, header, hub_datasets)
    _security(w, ctx)
    _reporting(w, root)

    # The header carries only what the evidence says.
    if hub_datasets:
        header["datasets"] = list(dict.fromkeys([*_as_list(header.get("datasets")), *hub_datasets]))
    if model_index is not None:
        header["model-index"] = model_index
    ordered = {k: header[k] for k in HF_KEYS if k in header}
    return Card(
        kind=MODEL_CARD_KIND,
        subject_kind="model",
        subject=rel,
        digest=ctx.digest.root,
        text=_yaml_header(ordered) + w.text(),
        missing=tuple(w.missing),
    )


def _model_details(w: _Writer, ctx: _Context) -> dict[str, Any]:
    front = ctx.front
    header: dict[str, Any] = {}
    for key in ("language", "library_name", "tags", "metrics", "pipeline_tag", "license_link"):
        if front.get(key) not in (None, "", []):
            header[key] = front[key]
    if _as_list(front.get("datasets")):
        header["datasets"] = _as_list(front.get("datasets"))
    w.section("Model details")
    w.add(f"- Name: {_md(ctx.name)}" + (" (from ssdf.toml [[models]])" if ctx.entry else ""))
    w.add(f"- Path: {_code(ctx.rel)}")
    if ctx.readme is not None and ctx.readme.front_error is not None:
        w.add(
            f"- {_code(ctx.readme_rel)} is used without its front matter: {ctx.readme.front_error}"
        )
    digest = ctx.digest
    if digest.root is not None:
        w.add(
            f"- Model digest: `sha256:{digest.root}` (OpenSSF model signing root over the "
            "model's files)"
        )
        if digest.signed_root is not None and not digest.matches_signature:
            w.add(
                f"- **The files differ from the newest signature** (signed root "
                f"`sha256:{digest.signed_root}`): {_md('; '.join(digest.changes[:10]))}"
            )
    else:
        w.gap(
            f"the model digest ({_md(digest.error or 'the files could not be hashed')})",
            f"run `ssdf hash {ctx.rel}`",
        )
    scan = ctx.evidence.scan
    if scan is not None and scan.files:
        counts = collections.Counter(fmt for _, fmt in scan.files)
        formats = ", ".join(f"{fmt} ({n})" for fmt, n in sorted(counts.items()))
        w.add(f"- File formats (detected by content in the newest scan): {_md(formats)}")
    if ctx.hf_config is not None:
        arch = _as_list(ctx.hf_config.get("architectures"))
        model_type = ctx.hf_config.get("model_type")
        parts = [", ".join(arch)] if arch else []
        if isinstance(model_type, str):
            parts.append(f"model type {model_type}")
        if parts:
            w.add(f"- Architecture: {_md('; '.join(parts))} (from `config.json`)")
    _base_model(w, ctx, header)
    licence = _entry_text(ctx.entry, "license")
    licence_source = "ssdf.toml [[models]]"
    if licence is None and isinstance(front.get("license"), str):
        licence = front["license"]
        licence_source = _code(ctx.readme_rel)
        if front.get("license_name"):
            header["license_name"] = front["license_name"]
    hf = _hf_license(licence)
    if licence and hf is not None:
        header["license"] = hf[0]
        if hf[1] is not None:
            header["license_name"] = hf[1]
        w.add(f"- Licence: {_code(licence)} (from {licence_source})")
    else:
        w.gap(
            "the model's licence",
            f"add `license` to the [[models]] entry for `{ctx.rel}` in ssdf.toml",
        )
    return header


def _base_model(w: _Writer, ctx: _Context, header: dict[str, Any]) -> None:
    base = _entry_text(ctx.entry, "base_model")
    source = "ssdf.toml [[models]]"
    if base is None and _as_list(ctx.front.get("base_model")):
        base = ", ".join(_as_list(ctx.front["base_model"]))
        source = _code(ctx.readme_rel)
    recorded = [(r.name, i.name) for r in ctx.producing for i in r.inputs if i.kind == "model"]
    if base:
        hub = [b.strip() for b in base.split(",") if b.strip()]
        header["base_model"] = hub[0] if len(hub) == 1 else hub
        w.add(f"- Base model: {_code(base)} (from {source})")
    for run_name, model in recorded:
        w.add(f"- Base model input of run {_code(run_name)}: {_code(model)}")
    if not base and not recorded:
        w.gap(
            "the base model (or that there is none)",
            f"add `base_model` to the [[models]] entry for `{ctx.rel}` in ssdf.toml, or record "
            "the fine-tuning run with `ssdf record --base-model PATH`",
        )


def _intended_use(w: _Writer, ctx: _Context) -> None:
    w.section("Intended use")
    text = _entry_text(ctx.entry, "intended_use")
    found = ctx.section(r"intended use|^uses?$|direct use|use cases?")
    if text:
        w.add(f"{_md(text)} (from ssdf.toml [[models]])")
    elif found is not None:
        w.quote(*found)
    else:
        w.gap(
            "the intended use",
            f"add `intended_use` to the [[models]] entry for `{ctx.rel}` in ssdf.toml, or an "
            "'Intended use' section to the model's README.md",
        )
    restrictions: dict[str, str] = {}
    for run in ctx.producing:
        for output in run.outputs:
            if _under(output.name, ctx.rel):
                value = output.annotations.get("restrictions")
                if isinstance(value, Mapping):
                    restrictions.update({str(k): str(v) for k, v in value.items()})
    for category, restriction in sorted(restrictions.items()):
        w.add(
            f"- Access restriction (trained on {_md(category)} data; from the recorded run's "
            f"provenance): {_md(restriction)}"
        )
    out_of_scope = ctx.section(r"out[- ]of[- ]scope")
    if out_of_scope is not None:
        w.add("", "### Out-of-scope use", "")
        w.quote(*out_of_scope)

    w.section("Limitations")
    text = _entry_text(ctx.entry, "limitations")
    found = ctx.section(r"limitation|risks")
    if text:
        w.add(f"{_md(text)} (from ssdf.toml [[models]])")
    elif found is not None:
        w.quote(*found)
    else:
        w.gap(
            "the model's limitations",
            f"add `limitations` to the [[models]] entry for `{ctx.rel}` in ssdf.toml, or a "
            "'Limitations' section to the model's README.md",
        )


def _justification(w: _Writer, ctx: _Context) -> None:
    w.section("Why this model")
    text = _entry_text(ctx.entry, "justification")
    if text:
        w.add(f"{_md(text)} (from ssdf.toml [[models]])")
    else:
        w.gap(
            "why this model or architecture was chosen",
            f"add `justification` to the [[models]] entry for `{ctx.rel}` in ssdf.toml",
        )


def _dataset_line(
    name: str, digest: str | None, annotations: Mapping[str, Any], ctx: _Context, w: _Writer
) -> str | None:
    """One training dataset: its registration now, or that it is not registered."""
    from ssdf_ai.provenance.registry import lookup

    registry = ctx.evidence.registry
    entry = lookup(registry, name, digest)
    label = _code(name) + (f" (sha256 {_code(digest)})" if digest else "")
    if entry is None:
        changed = lookup(registry, name)
        why = (
            f"its content is not the registered version (registered digest {_code(changed.digest)})"
            if changed is not None
            else "its source, licence and provenance are unknown"
        )
        w.add(
            f"- {label}: **not registered**: {why}; provenance unknown; run "
            f"`ssdf data register {name} --source URI --license ID`"
        )
        return None
    sensitive = ", ".join(entry.sensitive) if entry.sensitive else "none declared"
    registered = "" if annotations.get("registered") is True else " (registered after the run)"
    w.add(
        f"- {label}: source {_code(entry.source)}, licence {_code(entry.license)}, provenance "
        f"{entry.provenance.value}, sensitive data: {_md(sensitive)}, registered digest "
        f"{_code(entry.digest)} ({entry.digest_method}){registered}"
    )
    return _hf_dataset_id(entry.source)


def _training_data(w: _Writer, ctx: _Context) -> list[str]:
    """Write the training data section; return the Hugging Face dataset ids it can name."""
    w.section("Training data")
    hub_ids: list[str] = []
    seen: set[str] = set()
    for run in ctx.producing:
        for dataset in run.datasets:
            if dataset.name in seen:
                continue
            seen.add(dataset.name)
            ident = _dataset_line(dataset.name, dataset.digest, dataset.annotations, ctx, w)
            if ident:
                hub_ids.append(ident)
    if not seen:
        what = (
            "the training data: no recorded run produced this model"
            if not ctx.producing
            else "the training data: the recorded runs name no dataset"
        )
        w.gap(what, f"{RECORD_HINT}, with `--dataset PATH` for each dataset it reads")
    declared = _as_list(ctx.front.get("datasets"))
    if declared and ctx.readme_rel is not None:
        w.add(
            f"- Declared in {_code(ctx.readme_rel)} (not verified against recorded runs): "
            + ", ".join(_code(d) for d in declared)
        )
    found = ctx.section(r"training data")
    if found is not None:
        w.add("")
        w.quote(*found)
    return hub_ids


def _training_process(w: _Writer, ctx: _Context) -> None:
    w.section("Training process")
    if not ctx.producing:
        w.gap("a recorded training run that produced this model", RECORD_HINT)
        return
    for run in ctx.producing:
        if run.verified:
            status = f"provenance signed by {_md(run.signer)}, verified"
        else:
            status = "provenance NOT verified: " + _md("; ".join(run.problems[:3]) or "unknown")
        w.add(f"- Run {_code(run.name)} (`.intoto.jsonl` line {run.line}; {status})")
        w.add(f"  - Command: {_code(shlex.join(run.command)) if run.command else NOT_RECORDED}")
        exit_code = f"; exit code {run.exit_code}" if run.exit_code is not None else ""
        w.add(f"  - Started {_md(run.started_on)}, finished {_md(run.finished_on)}{exit_code}")
        w.add(f"  - Environment: {'; '.join(environment_summary(run))}")
        inputs = [f"{_code(i.name)} ({i.kind})" for i in run.inputs if i.kind != "code"][:10]
        if inputs:
            w.add(f"  - Inputs: {', '.join(inputs)}")
        outputs = [_code(o.name) for o in run.outputs][:10]
        if outputs:
            w.add(f"  - Outputs: {', '.join(outputs)}")


def _recorded_metrics(ctx: _Context) -> tuple[list[Metric], list[str]]:
    """Metrics files the producing runs wrote, read only when unchanged since the run."""
    from ssdf_ai.evidence import sha256_file

    found: list[Metric] = []
    notes: list[str] = []
    seen: set[str] = set()
    for run in reversed(ctx.producing):  # newest first
        for output in run.outputs:
            if posixpath.basename(output.name) not in METRICS_FILES or output.name in seen:
                continue
            seen.add(output.name)
            path = ctx.root / output.name
            try:
                unchanged = path.is_file() and sha256_file(path) == output.digest
            except OSError:
                unchanged = False
            if not unchanged:
                notes.append(
                    f"{_code(output.name)}, written by run {_code(run.name)}, is missing or "
                    "changed since; its values are not used"
                )
                continue
            source = f"{_code(output.name)}, an output of run {_code(run.name)}"
            found += _metrics(_json_file(path), source, recorded=True)
    folder = ctx.model if ctx.model.is_dir() else ctx.model.parent
    for name in METRICS_FILES:
        path = folder / name
        rel = relative_name(ctx.root, path) if path.is_file() else None
        if rel is not None and rel not in seen:
            found += _metrics(
                _json_file(path), f"{_code(rel)}, which no recorded run wrote", recorded=False
            )
    return found, notes


def _evaluation(
    w: _Writer, ctx: _Context, header: dict[str, Any], hub_datasets: list[str]
) -> list[Any] | None:
    """Write the evaluation section; return a ``model-index`` for the header when known."""
    w.section("Evaluation")
    index = ctx.front.get("model-index")
    found_any = False
    if isinstance(index, list) and ctx.readme_rel is not None:
        for model in index:
            results = model.get("results") if isinstance(model, Mapping) else None
            for result in results if isinstance(results, list) else []:
                if not isinstance(result, Mapping):
                    continue
                dataset = result.get("dataset")
                dataset_name = dataset.get("name") if isinstance(dataset, Mapping) else None
                metrics = result.get("metrics")
                for metric in metrics if isinstance(metrics, list) else []:
                    if isinstance(metric, Mapping) and "value" in metric:
                        label = metric.get("name") or metric.get("type")
                        where = f" on {_md(dataset_name)}" if dataset_name else ""
                        w.add(
                            f"- {_md(label)}: {_md(metric['value'])}{where} "
                            f"(from {_code(ctx.readme_rel)} model-index)"
                        )
                        found_any = True
    metrics, notes = _recorded_metrics(ctx)
    for metric in metrics:
        w.add(f"- {_md(metric.name)}: {metric.value:g} (from {metric.source})")
        found_any = True
    for note in notes:
        w.add(f"- {note}")
    if not found_any:
        w.gap(
            "evaluation metrics",
            f"{RECORD_HINT}, with the metrics file (metrics.json) among its outputs",
        )
    if isinstance(index, list):
        return index
    task = header.get("pipeline_tag")
    recorded = [m for m in metrics if m.recorded]
    if recorded and isinstance(task, str) and hub_datasets:
        return [
            {
                "name": ctx.name,
                "results": [
                    {
                        "task": {"type": task},
                        "dataset": {"name": hub_datasets[0], "type": hub_datasets[0]},
                        "metrics": [
                            {"type": m.name, "value": m.value, "name": m.name} for m in recorded
                        ],
                    }
                ],
            }
        ]
    return None


def _when(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _security(w: _Writer, ctx: _Context) -> None:  # noqa: C901, PLR0912 - one line per source
    from ssdf_ai.findings import Severity

    w.section("Security")
    rel = ctx.rel
    evidence = ctx.evidence
    scan = evidence.scan
    if scan is None:
        w.gap("a scan of the model's files", f"run `ssdf scan {rel}`")
    else:
        try:
            threshold = Severity(scan.fail_on)
        except ValueError:
            threshold = Severity.LOW
        failing = [f for f in scan.findings if _severity(f.get("severity")) >= threshold]
        verdict = "clean" if not failing and not scan.skipped else "NOT clean"
        when = _when(scan.artifact.created_at)
        w.add(
            f"- Scan: **{verdict}**: run {scan.artifact.run_id} on {when}: "
            f"{len(scan.files)} file(s) scanned, {len(scan.skipped)} not scanned, "
            f"{len(scan.findings)} finding(s), {len(failing)} at or above {threshold.value}"
        )
        for path, reason in scan.skipped[:10]:
            w.add(f"  - not scanned: {_code(path)}: {_md(reason)}")
    signature = evidence.signature
    if signature is None:
        w.gap("a signature of the model", f"run `ssdf sign {rel} --key KEY`")
    else:
        who = f"key {_code(signature.key_hint)}" if signature.key_hint else "a certificate"
        signed_at = f" (signed at {_md(signature.signed_at)})" if signature.signed_at else ""
        w.add(
            f"- Signature: OpenSSF model signing, recorded by run {signature.artifact.run_id} on "
            f"{_when(signature.artifact.created_at)}{signed_at}, by {who}; root "
            f"`sha256:{signature.root or '?'}`; signature file sha256 "
            f"{_code(signature.artifact.digest)}"
        )
        if ctx.digest.signed_root is not None and not ctx.digest.matches_signature:
            w.add("  - **the model's files no longer match this signature**")
    verification = evidence.verification
    if verification is None:
        w.gap("a verification of the signature", f"run `ssdf verify {rel} --key PUB`")
    else:
        run_id, when = verification.artifact.run_id, _when(verification.artifact.created_at)
        if verification.verified:
            who = f" (signer {_code(verification.signer)})" if verification.signer else ""
            w.add(f"- Verification: **verified** by run {run_id} on {when}{who}")
        else:
            problems = "; ".join(verification.problems[:5]) or "see the verification report"
            w.add(f"- Verification: **FAILED** in run {run_id} on {when}: {_md(problems)}")
        if (
            verification.verified
            and signature is not None
            and verification.root
            and signature.root
            and verification.root != signature.root
        ):
            w.add("  - it verified an earlier signature than the newest one")
    _open_findings(w, ctx)
    if evidence.assessment is not None:
        score = evidence.assessment_score
        text = f", score {score:.0f}/100" if score is not None else ""
        w.add(
            f"- Assessment against SP 800-218A: run {evidence.assessment.run_id} on "
            f"{_when(evidence.assessment.created_at)}{text}"
        )
    else:
        w.gap("an assessment against SP 800-218A", "run `ssdf assess`")


def _open_findings(w: _Writer, ctx: _Context) -> None:
    scan = ctx.evidence.scan
    verification = ctx.evidence.verification
    lines: list[str] = []
    for f in scan.findings if scan is not None else []:
        location = f.get("location")
        where = location.get("path") if isinstance(location, Mapping) else None
        label = " ".join(str(x) for x in (f.get("severity"), f.get("rule_id")) if x)
        lines.append(
            f"{_md(label)}: {_md(f.get('message', ''))}" + (f" ({_code(where)})" if where else "")
        )
    if verification is not None and not verification.verified:
        lines += [f"verification: {_md(p)}" for p in verification.problems]
    if lines:
        w.add("- Open findings:")
        w.add(*(f"  - {line}" for line in lines[:20]))
        if len(lines) > 20:
            w.add(f"  - … and {len(lines) - 20} more")
    elif scan is not None:
        w.add("- Open findings: none")


def _severity(value: object) -> Severity:
    from ssdf_ai.findings import Severity

    try:
        return Severity(str(value))
    except ValueError:
        return Severity.CRITICAL  # an unknown severity counts as the worst (fail closed)


def _reporting(w: _Writer, root: Path) -> None:
    w.section("Reporting problems")
    policy = security_policy(root)
    if policy is None:
        w.gap(
            "how to report a vulnerability or problem in this model",
            "add SECURITY.md with a contact (`ssdf assess` checks it: RV.1.3)",
        )
        return
    path, contacts = policy
    if contacts:
        w.add(
            f"Report vulnerabilities and other problems as {_code(path)} describes: "
            + ", ".join(_md(c) for c in contacts)
            + "."
        )
    else:
        w.add(f"The project's vulnerability disclosure policy is {_code(path)}.")
        w.gap(
            f"a contact to report to ({path} names no address or link)",
            f"add an email address or link to {path}",
        )


# -- the data card ---------------------------------------------------------------------------


def _walk_size(path: Path) -> tuple[int, int]:
    if path.is_file():
        return 1, path.stat().st_size
    files = size = 0
    for current, dirs, names in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in (".git", ".ssdf"))
        for name in names:
            try:
                info = (Path(current) / name).lstat()
            except OSError:
                continue
            files += 1
            size += info.st_size
            if files >= MAX_WALK_FILES:
                return files, size
    return files, size


def _runs_using(runs: Iterable[RecordedRun], rel: str, digest: str | None) -> Iterator[RecordedRun]:
    for run in runs:
        if any(_under(r.name, rel) or (digest and r.digest == digest) for r in run.inputs):
            yield run


def data_card(
    root: Path,
    dataset: Path,
    *,
    loaded: LoadedConfig,
    url: str | None = None,
    now: dt.datetime | None = None,
) -> Card:
    """Write the data card of ``dataset`` from its registration and the recorded runs.

    Args:
        root: The project root.
        dataset: The dataset (a file or folder), inside the project.
        loaded: The project's configuration.
        url: The evidence store's database URL.
        now: The time to date the card with (default: now).

    Returns:
        The card.

    Raises:
        InputError: The dataset does not exist or lies outside the project.
    """
    from ssdf_ai.provenance.registry import content_digest, lookup

    if not dataset.exists():
        raise InputError(f"{dataset} does not exist", where=dataset, hint="give the dataset")
    rel = relative_name(root, dataset)
    now = now or dt.datetime.now(dt.UTC)
    evidence = gather_store(root, rel, url)
    entry = lookup(evidence.registry, rel)
    current: str | None
    try:
        current, method = content_digest(dataset)
    except Error as exc:
        current, method = None, exc.message
    runs = recorded_runs(root, trusted_keys(loaded))

    w = _Writer()
    w.add(f"# Data card: {_md(rel)}", "")
    w.add(
        f"Generated by ssdf-ai {__version__} on {now.strftime('%Y-%m-%d %H:%M UTC')} from the "
        "dataset registry and the recorded runs. A line that starts with "
        f"*{NOT_RECORDED}* names missing evidence and the command that records it."
    )
    w.section("Dataset")
    w.add(f"- Path: {_code(rel)}")
    header: dict[str, Any] = {}
    register = f"run `ssdf data register {rel} --source URI --license ID`"
    if entry is None:
        w.gap("a registration (source, licence, provenance, sensitivity)", register)
    else:
        if entry.path != rel:
            w.add(f"- Registered as part of {_code(entry.path)}")
        w.add(f"- Source: {_code(entry.source)}")
        w.add(f"- Licence: {_code(entry.license)}")
        hf = _hf_license(entry.license)
        if hf is not None:
            header["license"] = hf[0]
            if hf[1] is not None:
                header["license_name"] = hf[1]
        w.add(f"- Provenance: {entry.provenance.value}")
        sensitive = ", ".join(entry.sensitive) if entry.sensitive else "none declared"
        w.add(f"- Sensitive data: {_md(sensitive)}")
        if entry.description:
            w.add(f"- Description: {_md(entry.description)}")
        who = f" by {_md(entry.registered_by)}" if entry.registered_by else ""
        w.add(f"- Registered: {_when(entry.registered_at)}{who}")

    w.section("Integrity")
    if current is None:
        w.gap(f"the dataset's digest now ({_md(method)})", f"run `ssdf hash {rel}`")
    else:
        w.add(f"- Digest now: `sha256:{current}` ({method})")
    if entry is not None and entry.path == rel:
        if current is not None and entry.digest == current:
            w.add(f"- Registered digest: `sha256:{entry.digest}`: **matches** the content now")
        else:
            w.add(
                f"- Registered digest: `sha256:{entry.digest}`: **differs**: the dataset "
                "changed since it was registered; register the new version or restore it"
            )
    elif entry is None:
        w.gap("a registered digest to compare with", register)

    w.section("Size")
    files, size = _walk_size(dataset)
    w.add(f"- Files: {files}", f"- Bytes: {size}")

    w.section("Used by")
    used = list(_runs_using(runs.items, rel, current))
    if not used:
        w.gap("a recorded run that used this dataset", f"{RECORD_HINT}, with `--dataset {rel}`")
    models: list[str] = []
    for run in used:
        verified = "verified" if run.verified else "NOT verified"
        w.add(
            f"- Run {_code(run.name)} (`.intoto.jsonl` line {run.line}, {verified}), started "
            f"{_md(run.started_on)}: {_code(shlex.join(run.command))}"
        )
        models += [o.name for o in run.outputs if o.annotations.get("kind") == "model"]
    if models:
        w.add("- Models it fed: " + ", ".join(_code(m) for m in dict.fromkeys(models)))
    elif used:
        w.gap("a model among the runs' outputs", "record the run with the model as an output")

    return Card(
        kind=DATA_CARD_KIND,
        subject_kind="dataset",
        subject=rel,
        digest=current,
        text=_yaml_header(header) + w.text(),
        missing=tuple(w.missing),
    )
