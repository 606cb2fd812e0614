"""Everything a bill of materials says about a model, gathered once into :class:`ModelInfo`.

The CycloneDX and SPDX writers (:mod:`ssdf_ai.bom.cyclonedx`, :mod:`ssdf_ai.bom.spdx`) only
translate a :class:`ModelInfo`; every file is read here, and nothing here knows either format.

Sources, all optional (a bare folder of weights still yields a model with its digests):

- the model's files: SHA-256 of each, and the OpenSSF model signing (OMS) root over the folder,
  computed as ``ssdf sign`` does (the signature file itself left out);
- a Hugging Face ``config.json`` (architecture, task, hyperparameters, base model) and the
  parameter count summed from safetensors headers (weights are never loaded);
- a ``README.md`` model card: its YAML front matter (licence, datasets, base model, task, tags,
  ``model-index`` metrics) and its sections (intended uses, limitations, bias, training data);
- ``metrics.json``, ``eval_results.json`` or ``all_results.json`` beside the weights;
- pickled scikit-learn style models (``.joblib``, ``.pkl``) and ``.skops`` files: the estimator
  class and the libraries the file imports, read by the scanner's symbolic pickle machine
  (nothing is unpickled);
- the project's ``[[models]]`` entries in ``ssdf.toml`` (read defensively);
- the recorded training runs in ``.intoto.jsonl`` (datasets, base model, command, packages);
- the dataset registry and the model signatures in the evidence store.

Every file is read with a size bound; YAML is parsed with ``safe_load`` semantics and without
aliases; JSON strictly. A source that cannot be read becomes a warning, never an error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import json
import math
import os
import re
import struct
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssdf_ai.errors import Error, InputError

if TYPE_CHECKING:
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.provenance.registry import DatasetEntry
    from ssdf_ai.provenance.runs import RecordedRun
    from ssdf_ai.store import EvidenceStore

__all__ = [
    "Ancestor",
    "CardText",
    "Dataset",
    "FileEntry",
    "Metric",
    "ModelInfo",
    "Package",
    "SignatureRef",
    "TrainingRun",
    "gather_model_info",
    "pypi_purl",
]

MAX_JSON_BYTES = 4 << 20
MAX_README_BYTES = 1 << 20
MAX_FRONT_MATTER_BYTES = 256 << 10
MAX_PICKLE_BYTES = 64 << 20
MAX_SAFETENSORS_HEADER = 100_000_000
MAX_FILES = 10_000
MAX_SECTION_CHARS = 2_000
MAX_ITEMS = 50
SIGNATURE_FILE = "model.sig"
DATABASE_URL_ENV = "SSDF_DATABASE_URL"

WEIGHT_FORMATS: dict[str, str] = {
    ".safetensors": "safetensors",
    ".bin": "pytorch",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "checkpoint",
    ".h5": "hdf5",
    ".keras": "keras",
    ".onnx": "onnx",
    ".gguf": "gguf",
    ".ggml": "ggml",
    ".joblib": "joblib",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".skops": "skops",
    ".msgpack": "flax",
    ".tflite": "tflite",
    ".pb": "tensorflow",
    ".npz": "numpy",
    ".npy": "numpy",
    ".mlmodel": "coreml",
    ".pte": "executorch",
}
# File formats -> the Python distributions that read them.
FORMAT_PACKAGES: dict[str, tuple[str, ...]] = {
    "safetensors": ("safetensors",),
    "pytorch": ("torch",),
    "checkpoint": ("torch",),
    "keras": ("keras",),
    "hdf5": ("h5py",),
    "onnx": ("onnx",),
    "gguf": ("gguf",),
    "joblib": ("joblib",),
    "skops": ("skops",),
    "tflite": ("tensorflow",),
    "tensorflow": ("tensorflow",),
    "numpy": ("numpy",),
}
# Python modules a pickle may import -> their distributions.
MODULE_PACKAGES: dict[str, str] = {
    "sklearn": "scikit-learn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "torch": "torch",
    "joblib": "joblib",
    "skops": "skops",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "statsmodels": "statsmodels",
}
# The ML-relevant distributions a BOM lists from the installed environment (when no run was
# recorded); the first group are frameworks, the rest libraries.
FRAMEWORKS = frozenset(
    {
        "torch",
        "tensorflow",
        "keras",
        "jax",
        "flax",
        "transformers",
        "scikit-learn",
        "xgboost",
        "lightgbm",
        "catboost",
        "onnxruntime",
        "sentence-transformers",
        "diffusers",
        "timm",
        "peft",
        "statsmodels",
    }
)
ML_PACKAGES = FRAMEWORKS | frozenset(
    {
        "onnx",
        "safetensors",
        "numpy",
        "scipy",
        "pandas",
        "joblib",
        "skops",
        "tokenizers",
        "accelerate",
        "gguf",
        "h5py",
        "datasets",
        "huggingface-hub",
    }
)
# Names a model card's ``library_name`` uses -> distributions.
LIBRARY_NAMES: dict[str, str] = {
    "sklearn": "scikit-learn",
    "scikit-learn": "scikit-learn",
    "pytorch": "torch",
    "torch": "torch",
    "tf": "tensorflow",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "transformers": "transformers",
    "sentence-transformers": "sentence-transformers",
    "diffusers": "diffusers",
    "timm": "timm",
    "peft": "peft",
    "onnx": "onnx",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "gguf": "gguf",
}
# config.json keys worth recording as hyperparameters (scalars only).
HYPERPARAMETER_KEYS = (
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "hidden_act",
    "vocab_size",
    "max_position_embeddings",
    "type_vocab_size",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "layer_norm_eps",
    "rms_norm_eps",
    "initializer_range",
    "n_embd",
    "n_layer",
    "n_head",
    "n_positions",
    "d_model",
    "num_layers",
    "num_heads",
    "d_ff",
    "rope_theta",
    "sliding_window",
    "image_size",
    "patch_size",
    "num_channels",
    "num_labels",
    "torch_dtype",
    "dtype",
)
# Architecture name suffixes -> (task, learning approach).
_ARCH_TASKS = (
    ("ForSequenceClassification", "text-classification", "supervised"),
    ("ForTokenClassification", "token-classification", "supervised"),
    ("ForQuestionAnswering", "question-answering", "supervised"),
    ("ForMultipleChoice", "multiple-choice", "supervised"),
    ("ForImageClassification", "image-classification", "supervised"),
    ("ForObjectDetection", "object-detection", "supervised"),
    ("ForAudioClassification", "audio-classification", "supervised"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition", "supervised"),
    ("ForConditionalGeneration", "text2text-generation", "self-supervised"),
    ("ForCausalLM", "text-generation", "self-supervised"),
    ("LMHeadModel", "text-generation", "self-supervised"),
    ("ForMaskedLM", "fill-mask", "self-supervised"),
    ("ForPreTraining", "fill-mask", "self-supervised"),
    ("Model", "feature-extraction", "self-supervised"),
)
# Task -> (input format, output format, domain).
_TASK_IO: dict[str, tuple[str, str, str]] = {
    "text-classification": ("text", "label with score", "natural language processing"),
    "token-classification": ("text", "label per token", "natural language processing"),
    "question-answering": ("text", "answer span", "natural language processing"),
    "multiple-choice": ("text", "choice with score", "natural language processing"),
    "fill-mask": ("text", "text", "natural language processing"),
    "text-generation": ("text", "text", "natural language processing"),
    "text2text-generation": ("text", "text", "natural language processing"),
    "summarization": ("text", "text", "natural language processing"),
    "translation": ("text", "text", "natural language processing"),
    "feature-extraction": ("text", "embedding vector", "natural language processing"),
    "sentence-similarity": ("text", "similarity score", "natural language processing"),
    "zero-shot-classification": ("text", "label with score", "natural language processing"),
    "image-classification": ("image", "label with score", "computer vision"),
    "object-detection": ("image", "bounding boxes with labels", "computer vision"),
    "image-segmentation": ("image", "segmentation mask", "computer vision"),
    "text-to-image": ("text", "image", "computer vision"),
    "audio-classification": ("audio", "label with score", "audio"),
    "automatic-speech-recognition": ("audio", "text", "speech recognition"),
    "tabular-classification": ("tabular features", "class label", "tabular data"),
    "tabular-regression": ("tabular features", "numeric value", "tabular data"),
}
# Words in tags or model types -> (input modality, domain).
_MODALITIES: tuple[tuple[tuple[str, ...], tuple[str, str]], ...] = (
    (("tabular",), ("tabular features", "tabular data")),
    (
        ("image", "vision", "vit", "clip", "resnet", "convnext", "detr"),
        ("image", "computer vision"),
    ),
    (("audio", "speech", "wav2vec", "whisper", "hubert"), ("audio", "audio")),
)
_UNSUPERVISED_SKLEARN = ("cluster", "decomposition", "mixture", "manifold", "covariance")
_CARD_PLACEHOLDER = re.compile(r"\[More Information Needed\]|\{\{.*?\}\}", re.IGNORECASE)
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:==\s*([^\s;,]+))?"
)
_SKLEARN_VERSION = re.compile(rb"_sklearn_version(?:\x94)?\x8c(.)")


# -- the neutral model ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FileEntry:
    """One file of the model: its path inside the model folder, SHA-256 and size."""

    path: str
    sha256: str
    size: int
    format: str | None

    @property
    def weights(self) -> bool:
        """Whether the file holds weights (by its extension)."""
        return self.format is not None


@dataclasses.dataclass(frozen=True)
class Metric:
    """One performance metric: type, value, and the slice (dataset, split) it was computed on."""

    type: str
    value: str
    slice: str | None = None
    dataset: str | None = None
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A dataset the model was trained or evaluated on.

    Attributes:
        key: A stable identity: the project-relative path, or ``hf:<id>`` for a hub dataset.
        name: A display name.
        path: The project-relative path, when it is a local dataset.
        digest: SHA-256 of the file or the OMS root of the folder, where known.
        digest_method: ``sha256`` or ``oms-root``.
        source: Where it came from (a URI), where known.
        license: Its licence (SPDX id, ``LicenseRef-…`` or ``NOASSERTION``), where known.
        provenance: ``known``, ``unknown`` (registered as unknown) or ``unregistered``.
        registered: Whether the dataset registry holds it.
        sensitive: Sensitive-data categories (pii, phi …); empty if none are recorded.
        description: Free text from the registry.
        registered_at: When it was registered (RFC 3339), if it was.
        registered_by: Who registered it.
        uses: ``training`` and/or ``evaluation``.
        found_in: Where the reference came from (a recorded run, the model card, ssdf.toml).
        built_time: The newest modification time of its local files (RFC 3339), if local.
        suffixes: The file name suffixes of its local files (``.csv``, ``.png`` …).
    """

    key: str
    name: str
    path: str | None = None
    digest: str | None = None
    digest_method: str | None = None
    source: str | None = None
    license: str | None = None
    provenance: str = "unregistered"
    registered: bool = False
    sensitive: tuple[str, ...] = ()
    description: str | None = None
    registered_at: str | None = None
    registered_by: str | None = None
    uses: tuple[str, ...] = ()
    found_in: tuple[str, ...] = ()
    built_time: str | None = None
    suffixes: tuple[str, ...] = ()

    @property
    def personal(self) -> bool | None:
        """Whether it holds sensitive personal information; ``None`` when nobody said."""
        if self.sensitive:
            return any(c in _PERSONAL for c in self.sensitive)
        return False if self.registered else None


_PERSONAL = frozenset({"pii", "phi", "pci", "biometric", "minors", "financial"})
_RESTRICTED = frozenset({"phi", "pci", "biometric", "minors"})


def classification(dataset: Dataset) -> tuple[str, str] | None:
    """``(CycloneDX classification, SPDX confidentiality level)`` of a dataset, or ``None``.

    Health, payment-card, biometric data and data about minors is restricted (red); any other
    sensitive category is confidential (amber); a public hub dataset with no sensitive category
    is public (clear); a registered dataset with none is internal (green); otherwise unknown.
    """
    if set(dataset.sensitive) & _RESTRICTED:
        return "restricted", "red"
    if dataset.sensitive:
        return "confidential", "amber"
    if dataset.source and _public_source(dataset.source):
        return "public", "clear"
    if dataset.registered:
        return "internal", "green"
    return None


def _public_source(source: str) -> bool:
    return source.startswith(("https://huggingface.co/datasets/", "hf://datasets/"))


@dataclasses.dataclass(frozen=True)
class Package:
    """A Python distribution the model needs or was trained with."""

    name: str
    version: str | None
    found_in: str

    @property
    def normalized(self) -> str:
        """The PEP 503 normalised name."""
        return re.sub(r"[-_.]+", "-", self.name).lower()

    @property
    def framework(self) -> bool:
        """Whether it is an ML framework (else a library)."""
        return self.normalized in FRAMEWORKS

    @property
    def purl(self) -> str:
        """Its package URL: ``pkg:pypi/name@version``."""
        return pypi_purl(self.name, self.version)


def pypi_purl(name: str, version: str | None) -> str:
    """``pkg:pypi/<normalised name>[@<version>]``."""
    from urllib.parse import quote

    base = "pkg:pypi/" + re.sub(r"[-_.]+", "-", name).lower()
    return f"{base}@{quote(version, safe='.-_~')}" if version else base


@dataclasses.dataclass(frozen=True)
class Ancestor:
    """A base model the model was derived from.

    Attributes:
        name: Its name: a hub id (``google-bert/bert-base-uncased``) or a project path.
        found_in: Where it is named (config.json, the model card, ssdf.toml, a recorded run).
        path: The project-relative path, when it is a local model.
        digest: SHA-256 or OMS root, when a recorded run measured it.
        hub_id: The Hugging Face repository id, when the name is one.
    """

    name: str
    found_in: tuple[str, ...]
    path: str | None = None
    digest: str | None = None
    hub_id: str | None = None

    @property
    def purl(self) -> str | None:
        """``pkg:huggingface/<namespace>/<name>`` for a hub model (purl ids are lower case)."""
        if self.hub_id is None:
            return None
        return "pkg:huggingface/" + self.hub_id.lower()


@dataclasses.dataclass(frozen=True)
class RunInput:
    """One resource a training run consumed or produced, as the run recorded it."""

    name: str
    digest: str | None
    kind: str


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """A recorded run that produced the model (``ssdf record``, SLSA provenance in DSSE).

    Attributes:
        invocation_id: The run's unique id.
        name: The run's name.
        command: The command it ran.
        started_on: When it started (RFC 3339).
        finished_on: When it finished (RFC 3339).
        exit_code: Its exit code, if recorded.
        line: Its 1-based line in ``.intoto.jsonl``.
        line_sha256: SHA-256 of that line's bytes (the envelope as stored).
        signer: The trusted signer whose signature verified, or ``None``.
        verified: Whether the signature verified and the statement is well formed.
        problems: Why not, if not.
        inputs: What it consumed (datasets, models, configs, code, other inputs).
        outputs: What it produced that lies in the model.
        matches_model: Whether every output it recorded in the model still has that digest.
        dataset_keys: The :class:`Dataset` keys of the datasets it consumed.
        git: The code state (commit, remote, branch, dirty), if recorded.
        environment: The interpreter and platform it ran on, as ``(key, value)`` pairs.
        build_type: The provenance's ``buildType``.
        builder_id: The provenance's ``builder.id``.
    """

    invocation_id: str
    name: str
    command: tuple[str, ...]
    started_on: str
    finished_on: str
    exit_code: int | None
    line: int
    line_sha256: str | None
    signer: str | None
    verified: bool
    problems: tuple[str, ...]
    inputs: tuple[RunInput, ...]
    outputs: tuple[RunInput, ...]
    matches_model: bool
    dataset_keys: tuple[str, ...]
    git: tuple[tuple[str, str], ...]
    environment: tuple[tuple[str, str], ...]
    build_type: str
    builder_id: str


@dataclasses.dataclass(frozen=True)
class SignatureRef:
    """A model signature (OpenSSF model signing bundle).

    Attributes:
        location: Where it is, relative to the project root (a file, or the evidence store's
            blob).
        sha256: SHA-256 of the signature file.
        found_in: ``evidence store (run N)`` or ``model folder``.
        root: The OMS root digest it signs, where known.
        current: Whether that root is the model's current one (``None`` if unknown).
    """

    location: str
    sha256: str
    found_in: str
    root: str | None
    current: bool | None


@dataclasses.dataclass(frozen=True)
class CardText:
    """What the model card's prose says, by topic (each item at most a few thousand chars)."""

    description: str | None = None
    users: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    recommendations: tuple[str, ...] = ()
    fairness: tuple[str, ...] = ()
    training: tuple[str, ...] = ()
    preprocessing: tuple[str, ...] = ()
    environmental: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Everything known about one model, in no particular format.

    Attributes:
        root: The project root.
        path: The model (a folder or one file).
        rel_path: The model's path relative to the project root (POSIX).
        name: The model's name.
        version: Its version, where one is declared.
        description: A short description.
        digest: The OMS root of a folder, or the SHA-256 of a single file.
        digest_method: ``oms-root`` or ``sha256``.
        oms_root: The OMS root (for a single file too: the root over its one digest).
        files: Every file with its SHA-256 (at most :data:`MAX_FILES`).
        files_total: How many files the model has (``files`` may list fewer).
        formats: The weight formats present.
        model_type: ``config.json`` ``model_type``, or the estimator's module family.
        architecture: The architecture class (``BertModel``, ``LogisticRegression``).
        task: The task (a Hugging Face pipeline tag where known).
        approach: ``supervised``, ``unsupervised``, ``self-supervised`` …, where inferable.
        input_format: What the model takes.
        output_format: What it returns.
        domain: Its domain (natural language processing, computer vision …).
        parameters: The number of parameters (from safetensors headers), where computable.
        hyperparameters: ``(key, value)`` from ``config.json``.
        licenses: Licence identifiers or names.
        tags: Model card tags.
        languages: Model card languages.
        card: The model card's prose.
        emissions: The card's ``co2_eq_emissions`` as ``(key, value)`` pairs (grams CO2eq).
        card_path: The model card (project-relative), if there is one.
        card_sha256: Its SHA-256.
        metrics: Performance metrics.
        datasets: Training and evaluation datasets, sorted by key.
        packages: Frameworks and libraries, sorted by name.
        ancestors: Base models, sorted by name.
        runs: Recorded training runs that produced the model, oldest first.
        signatures: Model signatures, newest first.
        intended_use: ``[[models]]`` ``intended_use``.
        justification: ``[[models]]`` ``justification``.
        risk: ``[[models]]`` safety risk assessment (high, medium, low, serious), if given.
        standards: ``[[models]]`` standards complied with, if given.
        supplier: Who supplies the model (``[[models]]`` or the project name).
        release_time: When the model was produced: the newest run's end, else the newest file
            modification time (RFC 3339, seconds).
        warnings: Sources that could not be read, and runs that could not be trusted.
    """

    root: Path
    path: Path
    rel_path: str
    name: str
    version: str | None
    description: str | None
    digest: str
    digest_method: str
    oms_root: str
    files: tuple[FileEntry, ...]
    files_total: int
    formats: tuple[str, ...]
    model_type: str | None
    architecture: str | None
    task: str | None
    approach: str | None
    input_format: str | None
    output_format: str | None
    domain: tuple[str, ...]
    parameters: int | None
    hyperparameters: tuple[tuple[str, str], ...]
    licenses: tuple[str, ...]
    tags: tuple[str, ...]
    languages: tuple[str, ...]
    card: CardText
    emissions: tuple[tuple[str, str], ...]
    card_path: str | None
    card_sha256: str | None
    metrics: tuple[Metric, ...]
    datasets: tuple[Dataset, ...]
    packages: tuple[Package, ...]
    ancestors: tuple[Ancestor, ...]
    runs: tuple[TrainingRun, ...]
    signatures: tuple[SignatureRef, ...]
    intended_use: tuple[str, ...]
    justification: str | None
    risk: str | None
    standards: tuple[str, ...]
    supplier: str
    release_time: str | None
    warnings: tuple[str, ...]

    @property
    def version_label(self) -> str:
        """The version, else ``sha256:`` and the first 12 hex digits of the digest."""
        return self.version or f"sha256:{self.digest[:12]}"

    @property
    def uses_personal_data(self) -> bool | None:
        """Whether a training dataset holds sensitive personal information (``None``: unknown)."""
        training = [d for d in self.datasets if "training" in d.uses]
        if any(d.personal for d in training):
            return True
        if training and all(d.personal is False for d in training):
            return False
        return None

    def file_location(self, inner: str) -> str:
        """A file of the model, relative to the project root."""
        if self.path.is_dir():
            return inner if self.rel_path == "." else f"{self.rel_path}/{inner}"
        return self.rel_path


# -- small readers ---------------------------------------------------------------------------


def _read_bounded(path: Path, limit: int) -> bytes | None:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > limit:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _read_json(path: Path, warnings: list[str], limit: int = MAX_JSON_BYTES) -> Any:
    data = _read_bounded(path, limit)
    if data is None:
        if path.is_file():
            warnings.append(f"{path.name}: not read (larger than {limit} bytes or unreadable)")
        return None
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        warnings.append(f"{path.name}: not valid JSON")
        return None


def _text(value: Any, limit: int = 500) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str | dt.date):
        text = str(value).strip()
        return text[:limit] if text else None
    return None


def _texts(value: Any, limit: int = 500) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in items[:MAX_ITEMS]:
        text = _text(item, limit)
        if text and text not in out:
            out.append(text)
    return tuple(out)


def _utc(value: str | None) -> str | None:
    """An RFC 3339 time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds), or ``None``."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_facts(path: Path) -> tuple[str | None, tuple[str, ...]]:
    """The newest modification time (RFC 3339) and the file suffixes of a file or folder.

    A folder is walked in sorted order and at most :data:`MAX_FILES` files are looked at; past
    that the time is unknown (``None``) and the suffixes are those of the files seen.
    """
    newest: float | None = None
    suffixes: set[str] = set()
    try:
        if path.is_file():
            newest = path.stat().st_mtime
            suffixes.add(path.suffix.lower())
        elif path.is_dir():
            seen = 0
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if d not in (".git", ".ssdf"))
                for name in sorted(filenames):
                    seen += 1
                    if seen > MAX_FILES:
                        return None, tuple(sorted(suffixes - {""}))
                    suffixes.add(os.path.splitext(name)[1].lower())
                    mtime = os.lstat(os.path.join(dirpath, name)).st_mtime
                    newest = mtime if newest is None else max(newest, mtime)
    except OSError:
        return None, tuple(sorted(suffixes - {""}))
    when = (
        dt.datetime.fromtimestamp(int(newest), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if newest is not None
        else None
    )
    return when, tuple(sorted(suffixes - {""}))


def _mtime(path: Path) -> str | None:
    """The newest modification time of a file, or of the files under a folder (bounded)."""
    return _local_facts(path)[0]


# -- the model card --------------------------------------------------------------------------


def _no_alias_loader() -> type:
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that refuses aliases (no billion-laughs expansion)."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("YAML aliases are not accepted in a model card")
            return super().compose_node(parent, index)

    return NoAliasLoader


def parse_card(text: str, warnings: list[str]) -> tuple[dict[str, Any], str]:
    """Split a model card into its YAML front matter (a dict) and its Markdown body."""
    import yaml

    meta: dict[str, Any] = {}
    body = text
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() == "---":
                front = "".join(lines[1:index])
                body = "".join(lines[index + 1 :])
                if len(front.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
                    warnings.append("README.md: front matter too large, not read")
                    break
                try:
                    # ssdf: ignore[SSDF-CODE-005] _no_alias_loader() returns a SafeLoader subclass
                    loaded = yaml.load(front, Loader=_no_alias_loader())  # noqa: S506 - a SafeLoader
                except (yaml.YAMLError, RecursionError) as exc:
                    warnings.append(f"README.md: front matter is not valid YAML ({exc})"[:300])
                    break
                if isinstance(loaded, dict):
                    meta = {str(k): v for k, v in loaded.items()}
                break
    return meta, body


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _sections(body: str) -> list[tuple[str, str]]:
    """``(heading, text)`` for each Markdown section (text until the next heading)."""
    out: list[tuple[str, str]] = []
    heading: str | None = None
    buffer: list[str] = []
    fenced = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match:
            if heading is not None:
                out.append((heading, "\n".join(buffer)))
            heading, buffer = match.group(2), []
        elif heading is not None:
            buffer.append(line)
    if heading is not None:
        out.append((heading, "\n".join(buffer)))
    return out


_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_FENCE = re.compile(r"^\s*```.*?^\s*```[^\n]*$", re.DOTALL | re.MULTILINE)


def _clean(text: str) -> str:
    text = _CARD_PLACEHOLDER.sub("", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    return _FENCE.sub("", text)


def _squash(text: str) -> str | None:
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return None
    return text if len(text) <= MAX_SECTION_CHARS else text[: MAX_SECTION_CHARS - 1] + "…"


def _items(text: str) -> list[str]:
    """A section as items: one per bullet of a bullet list, else the whole text as one."""
    lines = [line for line in _clean(text).splitlines() if line.strip()]
    if not lines:
        return []
    if _BULLET.match(lines[0]) and all(
        _BULLET.match(line) or line[:1] in (" ", "\t") for line in lines
    ):
        items: list[str] = []
        for line in lines:
            if _BULLET.match(line):
                items.append(_BULLET.sub("", line, count=1))
            else:
                items[-1] += " " + line.strip()
        return [t for t in (_squash(i) for i in items) if t]
    whole = _squash("\n".join(lines))
    return [whole] if whole else []


def _first_paragraph(text: str) -> str | None:
    """The first paragraph of prose (not a table, quote, image or HTML)."""
    for paragraph in re.split(r"\n\s*\n", _clean(text)):
        stripped = paragraph.strip()
        if stripped and not stripped.startswith(("|", ">", "<", "!", "[!")):
            return _squash(paragraph)
    return None


# Heading keywords -> CardText field; the first matching rule wins.
_SECTION_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("out-of-scope", "out of scope", "misuse"), "out_of_scope"),
    (("recommendation",), "recommendations"),
    (("fairness",), "fairness"),
    (("environmental", "carbon", "emission"), "environmental"),
    (("preprocessing", "pre-processing"), "preprocessing"),
    (("training data", "training procedure", "training details", "training"), "training"),
    (("bias", "risk", "ethic"), "risks"),
    (("intended user", "users", "audience"), "users"),
    (("intended use", "uses", "direct use", "downstream use", "use case"), "use_cases"),
    (("limitation",), "limitations"),
    (("model description", "description", "overview", "summary"), "description"),
)


def card_text(body: str) -> CardText:
    """Sort a model card's sections into :class:`CardText` fields by their headings."""
    found: dict[str, list[str]] = {}
    description: str | None = None
    sections = _sections(body)
    for heading, text in sections:
        lowered = heading.lower()
        for keywords, field in _SECTION_RULES:
            if any(k in lowered for k in keywords):
                if field == "description":
                    description = description or _first_paragraph(text)
                    break
                bucket = found.setdefault(field, [])
                for item in _items(text):
                    if item not in bucket and len(bucket) < MAX_ITEMS:
                        bucket.append(item)
                break
    if description is None:
        # the prose under the card's title (its level-1 heading) describes the model
        for line in body.splitlines():
            match = _HEADING.match(line)
            if match:
                if len(match.group(1)) == 1:
                    title = match.group(2)
                    description = next(
                        (p for h, t in sections if h == title and (p := _first_paragraph(t))),
                        None,
                    )
                break
    return CardText(description=description, **{k: tuple(v) for k, v in found.items()})


def _model_index(meta: Mapping[str, Any]) -> tuple[list[Metric], list[tuple[str, str]]]:
    """Metrics from ``model-index`` and the evaluation datasets ``(id, display name)``."""
    metrics: list[Metric] = []
    datasets: list[tuple[str, str]] = []
    index = meta.get("model-index")
    if not isinstance(index, list):
        return metrics, datasets
    for entry in index[:MAX_ITEMS]:
        results = entry.get("results") if isinstance(entry, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            raw = result.get("dataset")
            dataset: dict[str, Any] = raw if isinstance(raw, dict) else {}
            ds_id = _text(dataset.get("type")) or _text(dataset.get("name"))
            ds_name = _text(dataset.get("name")) or ds_id
            split = _text(dataset.get("split"))
            if ds_id and ds_name and (ds_id, ds_name) not in datasets:
                datasets.append((ds_id, ds_name))
            slice_ = f"{ds_name} ({split})" if ds_name and split else ds_name
            for metric in result.get("metrics") or []:
                if not isinstance(metric, dict):
                    continue
                kind = _text(metric.get("type")) or _text(metric.get("name"))
                value = _text(metric.get("value"))
                if kind and value and len(metrics) < MAX_ITEMS:
                    metrics.append(
                        Metric(
                            type=kind,
                            value=value,
                            slice=slice_,
                            dataset=f"hf:{ds_id}" if ds_id else None,
                            source="README.md model-index",
                        )
                    )
    return metrics, datasets


_NOT_METRICS = ("runtime", "per_second", "epoch", "samples", "steps", "flos", "step")


def _metrics_file(data: Any, source: str) -> list[Metric]:
    out: list[Metric] = []

    def add(key: str, value: Any, slice_: str | None) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        if isinstance(value, float) and not math.isfinite(value):
            return
        if any(word in key.lower() for word in _NOT_METRICS) or len(out) >= MAX_ITEMS:
            return
        out.append(Metric(type=key, value=str(value), slice=slice_, source=source))

    if isinstance(data, dict):
        for key, value in sorted(data.items()):
            if isinstance(value, dict):
                for inner, v in sorted(value.items()):
                    add(str(inner), v, str(key))
            else:
                add(str(key), value, None)
    return out


# -- weights -----------------------------------------------------------------------------------


def _safetensors_parameters(path: Path) -> int | None:
    """The number of tensor elements in a safetensors file, from its header alone."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            if len(head) != 8:
                return None
            (length,) = struct.unpack("<Q", head)
            if length > MAX_SAFETENSORS_HEADER or length > path.stat().st_size - 8:
                return None
            header = json.loads(handle.read(length), parse_constant=_reject_constant)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(header, dict):
        return None
    total = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else None
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            return None
        total += math.prod(shape)
    return total


@dataclasses.dataclass
class _PickleFacts:
    modules: set[str] = dataclasses.field(default_factory=set)
    estimator: tuple[str, str] | None = None  # (module, class)
    sklearn_version: str | None = None


def _pickle_facts(path: Path, facts: _PickleFacts) -> None:
    """Which libraries a pickle imports and its estimator class, without unpickling it."""
    from ssdf_ai.scan.pickle.machine import analyze

    data = _read_bounded(path, MAX_PICKLE_BYTES)
    if data is None or not data.startswith((b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")):
        return
    analysis = analyze(data, max_ops=2_000_000, max_nested_depth=0)
    for use in analysis.globals:
        top = use.module.split(".", 1)[0]
        if top in MODULE_PACKAGES:
            facts.modules.add(top)
            if (
                facts.estimator is None
                and use.called
                and top not in ("numpy", "scipy", "pandas", "joblib")
                and use.name[:1].isupper()
            ):
                facts.estimator = (use.module, use.name)
    match = _SKLEARN_VERSION.search(data)
    if match:
        length = match.group(1)[0]
        start = match.end()
        version = data[start : start + length].decode("ascii", "replace")
        if re.fullmatch(r"[0-9][0-9A-Za-z.+-]*", version):
            facts.sklearn_version = version


def _skops_facts(path: Path, facts: _PickleFacts) -> None:
    """The estimator class a ``.skops`` archive declares in its ``schema.json``."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("schema.json")
            if info.file_size > MAX_JSON_BYTES:
                return
            schema = json.loads(archive.read(info), parse_constant=_reject_constant)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, RecursionError):
        return
    if isinstance(schema, dict):
        module, name = schema.get("__module__"), schema.get("__class__")
        if isinstance(module, str) and isinstance(name, str):
            facts.estimator = (module, name)
            top = module.split(".", 1)[0]
            if top in MODULE_PACKAGES:
                facts.modules.add(top)
        facts.modules.add("skops")


# -- gathering ---------------------------------------------------------------------------------


@dataclasses.dataclass
class _Builder:
    """Mutable state while gathering; frozen into :class:`ModelInfo` at the end."""

    warnings: list[str] = dataclasses.field(default_factory=list)
    datasets: dict[str, Dataset] = dataclasses.field(default_factory=dict)
    ancestors: dict[str, Ancestor] = dataclasses.field(default_factory=dict)

    def add_dataset(self, dataset: Dataset) -> None:
        old = self.datasets.get(dataset.key)
        if old is None:
            self.datasets[dataset.key] = dataset
            return
        merged: dict[str, Any] = {}
        for field in dataclasses.fields(Dataset):
            a, b = getattr(old, field.name), getattr(dataset, field.name)
            if isinstance(a, tuple):
                merged[field.name] = tuple(dict.fromkeys((*a, *b)))
            elif field.name == "provenance":
                merged[field.name] = _worse_provenance(a, b)
            elif field.name == "registered":
                merged[field.name] = a or b
            else:
                merged[field.name] = a if a not in (None, "") else b
        self.datasets[dataset.key] = Dataset(**merged)

    def add_ancestor(self, name: str, found_in: str, **extra: Any) -> None:
        name = name.strip()
        for prefix in ("hf://", "https://huggingface.co/", "huggingface.co/"):
            if name.startswith(prefix) and extra.get("path") is None:
                name = name[len(prefix) :].strip("/")
        if not name:
            return
        key = name.lower()
        old = self.ancestors.get(key)
        hub = name if _HUB_ID.match(name) and extra.get("path") is None else None
        if old is None:
            self.ancestors[key] = Ancestor(name=name, found_in=(found_in,), hub_id=hub, **extra)
        else:
            self.ancestors[key] = dataclasses.replace(
                old,
                found_in=tuple(dict.fromkeys((*old.found_in, found_in))),
                path=old.path or extra.get("path"),
                digest=old.digest or extra.get("digest"),
            )


_PROVENANCE_RANK = {"known": 0, "unknown": 1, "unregistered": 2}


def _worse_provenance(a: str, b: str) -> str:
    return a if _PROVENANCE_RANK.get(a, 2) >= _PROVENANCE_RANK.get(b, 2) else b


def _config_entry(loaded: LoadedConfig | None, rel_path: str, name: str) -> Any:
    """The ``[[models]]`` entry for this model, if the configuration has that table."""
    if loaded is None:
        return None
    entries = getattr(loaded.config, "models", None)
    if not isinstance(entries, list | tuple):
        return None
    for entry in entries:
        path = getattr(entry, "path", None)
        if isinstance(path, str | Path) and Path(path).as_posix().strip("/") == rel_path:
            return entry
    for entry in entries:
        if getattr(entry, "name", None) == name:
            return entry
    return None


def _entry_texts(entry: Any, *names: str) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        value: Any = getattr(entry, name, None)
        if value is not None and hasattr(value, "value"):  # an enum
            value = value.value
        for text in _texts(value, MAX_SECTION_CHARS):
            if text not in out:
                out.append(text)
    return tuple(out)


def _manifest(model: Path, warnings: list[str]) -> tuple[str, str, str, list[FileEntry], int]:
    """``(digest, method, oms root, files, total)``: the model hashed as ``ssdf sign`` does."""
    from ssdf_ai.evidence import sha256_file
    from ssdf_ai.integrity.manifest import (
        DEFAULT_IGNORES,
        Serialization,
        iter_manifest,
        root_digest,
    )

    ignores: tuple[str, ...] = DEFAULT_IGNORES
    if model.is_dir() and (model / SIGNATURE_FILE).exists():
        ignores = (*ignores, SIGNATURE_FILE)
    if model.is_dir() and (model / ".ssdf").exists():
        ignores = (*ignores, ".ssdf")
    resources = list(iter_manifest(model, Serialization(ignore_paths=ignores)))
    root = root_digest(resources)
    files: list[FileEntry] = []
    for resource in resources[:MAX_FILES]:
        target = model / resource.name if model.is_dir() else model
        try:
            size = target.stat().st_size
        except OSError:
            size = 0
        name = resource.name if model.is_dir() else model.name
        fmt = WEIGHT_FORMATS.get(Path(name).suffix.lower())
        files.append(FileEntry(name, resource.digest, size, fmt))
    if len(resources) > MAX_FILES:
        warnings.append(f"{len(resources)} files: only the first {MAX_FILES} are listed")
    if model.is_dir():
        return root, "oms-root", root, files, len(resources)
    return sha256_file(model), "sha256", root, files, len(resources)


def _registry(store: EvidenceStore | None, warnings: list[str]) -> dict[str, DatasetEntry]:
    if store is None:
        return {}
    from ssdf_ai.provenance.registry import load_registry

    try:
        return load_registry(store)
    except Error as exc:
        warnings.append(f"dataset registry: {exc.message}")
        return {}


def _registered(entry: DatasetEntry, uses: tuple[str, ...], found_in: str, root: Path) -> Dataset:
    built, suffixes = _local_facts(root / entry.path)
    return Dataset(
        key=entry.path,
        name=entry.path,
        path=entry.path,
        digest=entry.digest,
        digest_method=entry.digest_method,
        source=entry.source,
        license=entry.license,
        provenance=entry.provenance.value,
        registered=True,
        sensitive=tuple(entry.sensitive),
        description=entry.description,
        registered_at=_utc(entry.registered_at.isoformat()),
        registered_by=entry.registered_by,
        uses=uses,
        found_in=(found_in,),
        built_time=built,
        suffixes=suffixes,
    )


def _card_dataset(
    ds_id: str,
    display: str,
    uses: tuple[str, ...],
    registry: Mapping[str, DatasetEntry],
    root: Path,
) -> Dataset:
    """A dataset a model card names: the registered one it matches, else a hub reference."""
    wanted = ds_id.strip().rstrip("/")
    for entry in sorted(registry.values(), key=lambda e: e.path):
        source = entry.source.rstrip("/")
        if (
            entry.path == wanted
            or source in (f"hf://datasets/{wanted}", f"https://huggingface.co/datasets/{wanted}")
            or source.endswith("/" + wanted)
        ):
            return _registered(entry, uses, "model card", root)
    hub: str | None = f"https://huggingface.co/datasets/{wanted}" if _HUB_ID.match(wanted) else None
    return Dataset(
        key=f"hf:{wanted}", name=display, source=hub, uses=uses, found_in=("model card",)
    )


def _run_dataset(
    resource: Any, run_label: str, registry: Mapping[str, DatasetEntry], root: Path
) -> Dataset:
    from ssdf_ai.provenance.registry import lookup

    notes: Mapping[str, Any] = resource.annotations
    entry = lookup(dict(registry), resource.name, resource.digest)
    registered = notes.get("registered") is True or entry is not None
    provenance = str(notes.get("provenance") or (entry.provenance.value if entry else ""))
    if provenance not in _PROVENANCE_RANK:
        provenance = "unregistered"
    sensitive = notes.get("sensitive")
    categories = (
        tuple(c for c in sensitive if isinstance(c, str)) if isinstance(sensitive, list) else ()
    )
    if not categories and entry is not None:
        categories = tuple(entry.sensitive)
    method = notes.get("digestMethod")
    built, suffixes = _local_facts(root / resource.name)
    return Dataset(
        key=resource.name,
        name=resource.name,
        path=resource.name,
        digest=resource.digest,
        digest_method=method
        if isinstance(method, str)
        else (entry.digest_method if entry else None),
        source=_text(notes.get("source")) or (entry.source if entry else None),
        license=_text(notes.get("license")) or (entry.license if entry else None),
        provenance=provenance,
        registered=registered,
        sensitive=categories,
        description=entry.description if entry else None,
        registered_at=_utc(entry.registered_at.isoformat()) if entry else None,
        registered_by=entry.registered_by if entry else None,
        uses=("training",),
        found_in=(run_label,),
        built_time=built,
        suffixes=suffixes,
    )


def _line_sha256(root: Path, line: int) -> str | None:
    import hashlib

    from ssdf_ai.provenance.runs import LOG_FILE, MAX_LINE_BYTES

    try:
        with open(root / LOG_FILE, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == line:
                    data = raw.strip()
                    return hashlib.sha256(data).hexdigest() if len(data) <= MAX_LINE_BYTES else None
    except OSError:
        return None
    return None


def _pairs(value: Mapping[str, Any] | None, prefix: str = "") -> tuple[tuple[str, str], ...]:
    """Scalars of a mapping as sorted ``(key, text)`` pairs; nested mappings as ``a.b``."""
    if not value:
        return ()
    out: list[tuple[str, str]] = []
    for key, item in sorted(value.items(), key=lambda kv: str(kv[0])):
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and not prefix:
            out += _pairs(item, name + ".")
        elif isinstance(item, str | int | float | bool):
            out.append((name, str(item)[:500]))
    return tuple(out[:200])


def _runs(
    root: Path,
    rel_path: str,
    files: Sequence[FileEntry],
    model_is_dir: bool,
    digest: str,
    registry: Mapping[str, DatasetEntry],
    builder: _Builder,
    runs: Sequence[RecordedRun] | None,
) -> tuple[list[TrainingRun], list[RecordedRun]]:
    from ssdf_ai.provenance.runs import load_runs, runs_producing

    if runs is None:
        try:
            runs = load_runs(root)
        except Error as exc:
            builder.warnings.append(f"recorded runs: {exc.message}")
            return [], []
    producing = runs_producing(runs, rel_path)
    current = {(f"{rel_path}/{f.path}" if model_is_dir else rel_path): f.sha256 for f in files}
    if model_is_dir and rel_path == ".":
        current = {f.path: f.sha256 for f in files}

    def matches(run: RecordedRun) -> bool:
        inside = (
            [o for o in run.outputs if o.name == rel_path or o.name.startswith(rel_path + "/")]
            if rel_path != "."
            else list(run.outputs)
        )
        return bool(inside) and all(
            current.get(o.name) == o.digest or (o.name == rel_path and o.digest == digest)
            for o in inside
        )

    chosen = [r for r in producing if matches(r)]
    if not chosen and producing:
        chosen = producing[-1:]
        builder.warnings.append(
            f"the newest run producing {rel_path} ({chosen[0].name}, line {chosen[0].line}) "
            "recorded other file digests than the model has now"
        )
    out: list[TrainingRun] = []
    for run in chosen:
        label = f"recorded run {run.name} (line {run.line})"
        if not run.verified:
            builder.warnings.append(
                f"{label} is not verified: {'; '.join(run.problems) or 'no trusted signature'}"
            )
        dataset_keys: list[str] = []
        inputs: list[RunInput] = []
        for resource in run.inputs:
            inputs.append(RunInput(resource.name, resource.digest, resource.kind))
            if resource.kind == "dataset":
                dataset = _run_dataset(resource, label, registry, root)
                builder.add_dataset(dataset)
                dataset_keys.append(dataset.key)
            elif resource.kind == "model":
                builder.add_ancestor(
                    resource.name, label, path=resource.name, digest=resource.digest
                )
        outputs = tuple(
            RunInput(o.name, o.digest, str(o.annotations.get("kind") or "file"))
            for o in run.outputs
            if rel_path == "." or o.name == rel_path or o.name.startswith(rel_path + "/")
        )
        predicate = run.statement.get("predicate")
        predicate = predicate if isinstance(predicate, dict) else {}
        build = predicate.get("buildDefinition") if isinstance(predicate, dict) else {}
        details = predicate.get("runDetails") if isinstance(predicate, dict) else {}
        builder_info = details.get("builder") if isinstance(details, dict) else {}
        out.append(
            TrainingRun(
                invocation_id=run.invocation_id,
                name=run.name,
                command=run.command,
                started_on=run.started_on,
                finished_on=run.finished_on,
                exit_code=run.exit_code,
                line=run.line,
                line_sha256=_line_sha256(root, run.line),
                signer=run.signer,
                verified=run.verified,
                problems=run.problems,
                inputs=tuple(inputs),
                outputs=outputs,
                matches_model=matches(run),
                dataset_keys=tuple(dict.fromkeys(dataset_keys)),
                git=_pairs(run.git),
                environment=_pairs(run.environment),
                build_type=str(build.get("buildType") or "") if isinstance(build, dict) else "",
                builder_id=(
                    str(builder_info.get("id") or "") if isinstance(builder_info, dict) else ""
                ),
            )
        )
    return out, chosen


def _open_store(
    root: Path, loaded: LoadedConfig | None, warnings: list[str]
) -> EvidenceStore | None:
    from ssdf_ai.store import EvidenceStore

    url = os.environ.get(DATABASE_URL_ENV) or (loaded.config.store.url if loaded else None)
    try:
        if not EvidenceStore.exists(root, url=url):
            return None
        return EvidenceStore.open(root, url=url, create=False)
    except Error as exc:
        warnings.append(f"evidence store: {exc.message}")
        return None


def _signatures(
    store: EvidenceStore | None,
    root: Path,
    model: Path,
    rel_path: str,
    oms_root: str,
    warnings: list[str],
) -> list[SignatureRef]:
    """The newest signature recorded for the model, and ``model.sig`` in its folder."""
    from ssdf_ai.evidence import sha256_file
    from ssdf_ai.integrity.oms import parse_statement, read_bundle
    from ssdf_ai.provenance.registry import project_path

    found: list[SignatureRef] = []
    candidates = (
        [model / SIGNATURE_FILE] if model.is_dir() else [model.with_name(model.name + ".sig")]
    )
    local: dict[str, Path] = {}
    for path in candidates:
        if path.is_file() and not path.is_symlink():
            try:
                local[sha256_file(path)] = path
            except OSError:
                continue
    if store is not None:
        try:
            artifacts = store.artifacts(kind="model-signature", subject=rel_path, limit=1)
        except Error as exc:
            warnings.append(f"evidence store: {exc.message}")
            artifacts = []
        for artifact in artifacts:
            subjects = (
                store.subjects({artifact.subject_id}) if artifact.subject_id is not None else []
            )
            signed_root = subjects[0].digest if subjects else None
            local_path = local.get(artifact.digest)
            location = project_path(root, local_path or store.blob_path(artifact.digest))
            found.append(
                SignatureRef(
                    location=location,
                    sha256=artifact.digest,
                    found_in=f"evidence store (run {artifact.run_id})",
                    root=signed_root,
                    current=(signed_root == oms_root) if signed_root else None,
                )
            )
    for digest, path in sorted(local.items(), key=lambda item: str(item[1])):
        if any(s.sha256 == digest for s in found):
            continue
        signed: str | None = None
        try:
            bundle, payload, _ = read_bundle(path)
            signed = parse_statement(path, bundle, payload).root
        except Error as exc:
            warnings.append(f"{path.name}: {exc.message}")
        found.append(
            SignatureRef(
                location=project_path(root, path),
                sha256=digest,
                found_in="model folder",
                root=signed,
                current=(signed == oms_root) if signed else None,
            )
        )
    return found


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _requirements(folder: Path) -> dict[str, str | None]:
    wanted: dict[str, str | None] = {}
    data = _read_bounded(folder / "requirements.txt", 256 << 10)
    if data is None:
        return wanted
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.split("#", 1)[0]
        match = _REQUIREMENT.match(line)
        if match and not line.lstrip().startswith("-"):
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            if name in ML_PACKAGES:
                wanted[name] = match.group(2)
    return wanted


def _packages(
    runs: Sequence[RecordedRun],
    wanted: Mapping[str, str | None],
    saved_with: Mapping[str, str],
) -> list[Package]:
    """The packages of the newest recorded run, else the ML packages the model needs."""
    for run in reversed(runs):
        if run.packages:
            label = f"recorded run {run.name} (line {run.line})"
            seen: dict[str, Package] = {}
            for name, recorded in run.packages:
                if name:
                    package = Package(name, recorded or None, label)
                    seen.setdefault(package.normalized, package)
            return sorted(seen.values(), key=lambda p: p.normalized)
    out: list[Package] = []
    for name in sorted(wanted):
        version: str | None = _installed(name)
        found_in = "installed environment"
        if version is None and wanted[name]:
            version, found_in = wanted[name], "requirements.txt"
        elif version is None and name in saved_with:
            version, found_in = saved_with[name], "saved with (model metadata)"
        elif version is None:
            found_in = "model files (not installed here)"
        out.append(Package(name, version, found_in))
    return out


def gather_model_info(
    root: Path,
    model: Path,
    *,
    loaded_config: LoadedConfig | None = None,
    store: EvidenceStore | None = None,
    runs: Sequence[RecordedRun] | None = None,
) -> ModelInfo:
    """Read everything known about a model.

    Args:
        root: The project root (its ``.intoto.jsonl`` and evidence store are read).
        model: The model folder, or a single model file.
        loaded_config: The project's configuration (for ``[[models]]`` and the store URL);
            loaded from ``root`` when ``None``.
        store: An open evidence store; opened (never created) from ``root`` when ``None``.
        runs: The recorded runs; read from ``root/.intoto.jsonl`` when ``None``.

    Returns:
        The gathered :class:`ModelInfo`.

    Raises:
        InputError: The model does not exist or cannot be hashed.
    """
    from ssdf_ai.provenance.registry import content_digest, project_path

    root, model = Path(root), Path(model)
    if not model.exists():
        raise InputError(f"{model} does not exist", where=model, hint="give a model folder or file")
    b = _Builder()
    if loaded_config is None:
        from ssdf_ai.config import load_config

        try:
            loaded_config = load_config(root)
        except Error as exc:
            b.warnings.append(f"configuration not read ({exc.message}): [[models]] is ignored")
    rel_path = project_path(root, model)
    folder = model if model.is_dir() else None
    digest, method, oms_root, files, total = _manifest(model, b.warnings)
    entry = _config_entry(loaded_config, rel_path, model.name)

    # config.json
    hf: dict[str, Any] = {}
    if folder is not None:
        value = _read_json(folder / "config.json", b.warnings)
        hf = value if isinstance(value, dict) else {}
    # README.md
    meta: dict[str, Any] = {}
    card = CardText()
    card_path: str | None = None
    card_sha: str | None = None
    if folder is not None and (folder / "README.md").is_file():
        data = _read_bounded(folder / "README.md", MAX_README_BYTES)
        if data is None:
            b.warnings.append(f"README.md: larger than {MAX_README_BYTES} bytes, not read")
        else:
            import hashlib

            meta, body = parse_card(data.decode("utf-8", "replace"), b.warnings)
            card = card_text(body)
            card_path = project_path(root, folder / "README.md")
            card_sha = hashlib.sha256(data).hexdigest()

    metrics, eval_sets = _model_index(meta)
    if folder is not None:
        for name in ("metrics.json", "eval_results.json", "all_results.json"):
            if (folder / name).is_file():
                metrics += _metrics_file(_read_json(folder / name, b.warnings), name)
    metrics = list(dict.fromkeys(metrics))

    # weights
    formats = tuple(sorted({f.format for f in files if f.format}))
    parameters: int | None = None
    facts = _PickleFacts()
    for f in files:
        target = model / f.path if folder is not None else model
        if f.format == "safetensors":
            count = _safetensors_parameters(target)
            parameters = (
                None if count is None and parameters is None else (parameters or 0) + (count or 0)
            )
        elif f.format in ("joblib", "pickle"):
            _pickle_facts(target, facts)
        elif f.format == "skops":
            _skops_facts(target, facts)

    # architecture and task
    architectures = [a for a in hf.get("architectures") or [] if isinstance(a, str)]
    model_type = _text(hf.get("model_type"))
    architecture = architectures[0] if architectures else None
    task = _text(meta.get("pipeline_tag"))
    approach: str | None = None
    if architecture:
        for suffix, arch_task, arch_approach in _ARCH_TASKS:
            if architecture.endswith(suffix):
                task = task or arch_task
                approach = arch_approach
                break
    if facts.estimator is not None:
        module, cls = facts.estimator
        parts = module.split(".")
        architecture = architecture or cls
        model_type = model_type or (parts[1].lstrip("_") if len(parts) > 1 else parts[0])
        if parts[0] == "sklearn":
            unsupervised = len(parts) > 1 and parts[1] in _UNSUPERVISED_SKLEARN
            approach = approach or ("unsupervised" if unsupervised else "supervised")
            if not unsupervised and task is None:
                lowered = cls.lower()
                task = (
                    "tabular-regression"
                    if "regress" in lowered and "logistic" not in lowered
                    else "tabular-classification"
                )
    entry_approach = _entry_texts(entry, "approach")
    approach = entry_approach[0] if entry_approach else approach
    entry_task = _entry_texts(entry, "task")
    task = entry_task[0] if entry_task else task
    io = _TASK_IO.get(task or "")
    if task in (None, "feature-extraction"):
        # the task does not tell the modality: the card's tags or the model type may
        words = " ".join((*_texts(meta.get("tags"), 100), model_type or "")).lower()
        for keywords, (modality, field) in _MODALITIES:
            if any(k in words for k in keywords):
                io = (modality, io[1] if io else "", field)
                break
    domain = tuple(dict.fromkeys([*(_entry_texts(entry, "domain")), *([io[2]] if io else [])]))

    hyper = tuple(
        (key, str(hf[key]))
        for key in HYPERPARAMETER_KEYS
        if isinstance(hf.get(key), str | int | float) and not isinstance(hf.get(key), bool)
    )

    # licences, tags, languages
    licenses = list(_entry_texts(entry, "license"))
    for value in (*_texts(meta.get("license")), *_texts(meta.get("license_name"))):
        if value not in licenses and value.lower() != "other":
            licenses.append(value)
    if not licenses and "other" in _texts(meta.get("license")):
        licenses.append("other")

    # the evidence store: dataset registry and signatures; recorded runs
    own_store = store is None
    if store is None:
        store = _open_store(root, loaded_config, b.warnings)
    try:
        registry = _registry(store, b.warnings)
        signatures = _signatures(store, root, model, rel_path, oms_root, b.warnings)
    finally:
        if own_store and store is not None:
            store.close()
    training_runs, chosen = _runs(root, rel_path, files, model.is_dir(), digest, registry, b, runs)
    for ds_id in _texts(meta.get("datasets")):
        b.add_dataset(_card_dataset(ds_id, ds_id, ("training",), registry, root))
    for ds_id, display in eval_sets:
        b.add_dataset(_card_dataset(ds_id, display, ("evaluation",), registry, root))
    for ds_id in _entry_texts(entry, "datasets"):
        dataset = _card_dataset(ds_id, ds_id, ("training",), registry, root)
        b.add_dataset(dataclasses.replace(dataset, found_in=("ssdf.toml [[models]]",)))
    # metrics name evaluation datasets by hub id: point them at the dataset's key
    keys = {f"hf:{d.name}": d.key for d in b.datasets.values()}
    keys.update({d.key: d.key for d in b.datasets.values()})
    metrics = [
        dataclasses.replace(m, dataset=keys.get(m.dataset or "", m.dataset)) for m in metrics
    ]

    # base models
    named: list[tuple[str, str]] = []
    name_or_path = _text(hf.get("_name_or_path"))
    if name_or_path and not Path(name_or_path).is_absolute() and not name_or_path.startswith("."):
        named.append((name_or_path, "config.json _name_or_path"))
    named += [(v, "README.md base_model") for v in _texts(meta.get("base_model"))]
    named += [(v, "ssdf.toml [[models]]") for v in _entry_texts(entry, "base_model")]
    for value, found_in in named:
        local = root / value
        if "://" not in value and ".." not in Path(value).parts and local.exists():
            # a base model in the project: named by its path, with its digest
            try:
                digest_of = content_digest(local)[0]
            except Error:
                digest_of = None
            b.add_ancestor(
                Path(value).as_posix(), found_in, path=Path(value).as_posix(), digest=digest_of
            )
        else:
            b.add_ancestor(value, found_in)
    b.ancestors = {k: a for k, a in b.ancestors.items() if a.name not in (rel_path, model.name)}

    # packages
    wanted: dict[str, str | None] = {}
    for fmt in formats:
        for name in FORMAT_PACKAGES.get(fmt, ()):
            wanted.setdefault(name, None)
    for module in sorted(facts.modules):
        wanted.setdefault(MODULE_PACKAGES[module], None)
    saved_with: dict[str, str] = {}
    if facts.sklearn_version:
        saved_with["scikit-learn"] = facts.sklearn_version
    if isinstance(hf.get("transformers_version"), str):
        # saved by transformers: from PyTorch unless the architecture says TensorFlow or Flax
        wanted.setdefault("transformers", None)
        saved_with["transformers"] = hf["transformers_version"]
        if not (architecture or "").startswith(("TF", "Flax")):
            wanted.setdefault("torch", None)
    if folder is not None and (folder / "tokenizer.json").is_file():
        wanted.setdefault("tokenizers", None)
    library = _text(meta.get("library_name"))
    if library and library.lower() in LIBRARY_NAMES:
        wanted.setdefault(LIBRARY_NAMES[library.lower()], None)
    if folder is not None:
        wanted.update({k: v for k, v in _requirements(folder).items() if v or k not in wanted})
    packages = _packages(chosen, wanted, saved_with)

    name = (
        next(iter(_entry_texts(entry, "name")), None)
        or _text(meta.get("model_name"))
        or (
            _text(meta["model-index"][0].get("name"))
            if isinstance(meta.get("model-index"), list)
            and meta["model-index"]
            and isinstance(meta["model-index"][0], dict)
            else None
        )
        or (model.name if model.is_dir() else model.stem)
        or "model"
    )
    version = next(iter(_entry_texts(entry, "version")), None) or _text(meta.get("version"))
    project = loaded_config.config.project.name if loaded_config is not None else root.name
    supplier = next(iter(_entry_texts(entry, "supplier", "owner", "provider")), None) or project
    release = max((_utc(r.finished_on) or "" for r in training_runs), default="") or _mtime(model)
    risk = next(iter(_entry_texts(entry, "safety_risk", "risk", "safety_risk_assessment")), None)
    if risk is not None and risk.lower() not in ("high", "medium", "low", "serious"):
        risk = None
    description = next(iter(_entry_texts(entry, "description")), None) or card.description
    card = dataclasses.replace(
        card,
        users=tuple(dict.fromkeys((*card.users, *_entry_texts(entry, "users")))),
        limitations=tuple(dict.fromkeys((*card.limitations, *_entry_texts(entry, "limitations")))),
    )
    return ModelInfo(
        root=root,
        path=model,
        rel_path=rel_path,
        name=name,
        version=version,
        description=description,
        digest=digest,
        digest_method=method,
        oms_root=oms_root,
        files=tuple(files),
        files_total=total,
        formats=formats,
        model_type=model_type,
        architecture=architecture,
        task=task,
        approach=approach,
        input_format=io[0] if io else None,
        output_format=(io[1] or None) if io else None,
        domain=domain,
        parameters=parameters,
        hyperparameters=hyper,
        licenses=tuple(licenses),
        tags=_texts(meta.get("tags"), 100),
        languages=_texts(meta.get("language"), 50),
        card=card,
        emissions=_emissions(meta.get("co2_eq_emissions")),
        card_path=card_path,
        card_sha256=card_sha,
        metrics=tuple(metrics),
        datasets=tuple(sorted(b.datasets.values(), key=lambda d: d.key)),
        packages=tuple(packages),
        ancestors=tuple(sorted(b.ancestors.values(), key=lambda a: a.name.lower())),
        runs=tuple(training_runs),
        signatures=tuple(signatures),
        intended_use=_entry_texts(entry, "intended_use"),
        justification=next(iter(_entry_texts(entry, "justification")), None),
        risk=risk.lower() if risk else None,
        standards=_entry_texts(entry, "standards", "standard_compliance"),
        supplier=supplier,
        release_time=release,
        warnings=tuple(dict.fromkeys(b.warnings)),
    )


def _emissions(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple(
            (str(k), text)
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
            if (text := _text(v, 200)) is not None
        )[:MAX_ITEMS]
    text = _text(value, 200)
    return (("emissions", text),) if text else ()
