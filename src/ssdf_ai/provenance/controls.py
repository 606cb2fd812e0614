"""The assessment's controls for provenance, bills of materials, cards and releases (PS.3.1,
PS.3.2, PW.3.2, PW.6.2, PO.1.2, PO.3.3).

They read what ``ssdf record``, ``ssdf data register``, ``ssdf bom``, ``ssdf card`` and
``ssdf release build`` recorded, once per assessment (:meth:`Facts.memo`):

* the training runs of ``PROJECT/.intoto.jsonl`` (:func:`~ssdf_ai.provenance.runs.scan_log`),
  whose signatures are checked against the ``[[signers]]`` of the configuration;
* the dataset registry, rebuilt from the ``dataset-registration`` artifacts of the store;
* every ``bom``, ``card`` and ``release`` run (:data:`~ssdf_ai.assess._facts.HISTORY_COMMANDS`),
  and the signatures the integrity controls read.

The models they ask about are the ``[[models]]`` of ``ssdf.toml``, the models the project
produces; a project without ``[[models]]`` is asked about every model weight file under
``[paths] models``. A document (BOM, card, release) covers a model when its subject is the
model's path or a folder above it.

Provenance, registrations and documents do not go stale with time: what they describe does not
change. They go out of date when the model does: a BOM, card or release older than the model's
newest signature or producing run is ``stale``, and a model whose files no longer match the run
that produced it is ``not-satisfied``. Checking that is the one place where these controls hash
files: the outputs of the runs that produced the declared models, as ``ssdf provenance verify``
does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ssdf_ai.assess._facts import MODEL_SUFFIXES
from ssdf_ai.assess.controls import Control, control
from ssdf_ai.assess.model import ControlResult, Effort, EvidenceLink
from ssdf_ai.findings import Outcome
from ssdf_ai.integrity.controls import covers, model_files, signatures
from ssdf_ai.store.records import RunStatus

if TYPE_CHECKING:
    from ssdf_ai.assess._facts import Facts
    from ssdf_ai.config._model import ModelEntry
    from ssdf_ai.provenance.registry import DatasetEntry
    from ssdf_ai.provenance.runs import RecordedRun
    from ssdf_ai.store import ArtifactRecord, RunDetail

BOM_COMMAND = "bom"
CARD_COMMAND = "card"
RELEASE_COMMAND = "release"
BOM_KINDS = {"cyclonedx-bom": "CycloneDX", "spdx-document": "SPDX"}
MODEL_CARD_KIND = "model-card"
DATA_CARD_KIND = "data-card"
RELEASE_ARCHIVE_KIND = "release-archive"
RELEASE_MANIFEST_KIND = "release-manifest"
RELEASE_PROVENANCE = "provenance.intoto.jsonl"
PROVENANCE_KIND = "provenance"
# Packages whose versions the training-provenance rationale names when a run recorded them.
KEY_PACKAGES = ("torch", "tensorflow", "jax", "transformers", "scikit-learn", "xgboost", "numpy")
COMPILER_KEYS = ("gcc", "cc", "clang")

RECORD_HINT = (
    "record the training run with `ssdf record --dataset DATA --output MODEL --key KEY -- COMMAND`"
)
NO_RUN = "no training run is recorded (.intoto.jsonl is empty or missing); " + RECORD_HINT
NO_MODELS = "no model is declared in [[models]] and the configured model paths hold no model file"


# -- what the controls read ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """A model the controls ask about.

    Attributes:
        path: Its project-relative POSIX path (a file or a folder).
        entry: Its ``[[models]]`` entry; ``None`` for a weight file found under the model paths.
    """

    path: str
    entry: ModelEntry | None

    @property
    def label(self) -> str:
        """How the rationale names it."""
        if self.entry is not None and self.entry.name != self.path:
            return f"{self.entry.name} ({self.path})"
        return self.path


@dataclasses.dataclass(frozen=True)
class Log:
    """The project's recorded training runs, read once.

    Attributes:
        runs: The runs, oldest first (verified or not).
        problems: Lines that are no readable run, and ``[[signers]]`` keys that cannot be used.
        error: Why the log could not be read at all.
    """

    runs: list[RecordedRun]
    problems: list[str]
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Registration:
    """The newest registration of a dataset path, and the artifact that holds it."""

    entry: DatasetEntry
    artifact: ArtifactRecord


@dataclasses.dataclass(frozen=True)
class Document:
    """A BOM, card or release recorded for a subject.

    Attributes:
        subject: The subject's name (project-relative path).
        kind: The artifact's kind.
        artifact: The artifact.
        detail: The run that recorded it.
    """

    subject: str
    kind: str
    artifact: ArtifactRecord
    detail: RunDetail

    @property
    def run_id(self) -> int:
        """The recording run's id."""
        return self.detail.run.id


def _normal(path: str) -> str:
    text = path.replace("\\", "/").strip()
    while text.startswith("./"):
        text = text[2:]
    return text.rstrip("/") or "."


def targets(facts: Facts) -> list[Target]:
    """The ``[[models]]`` of the configuration; without any, the model weight files found."""
    entries = facts.loaded.config.models
    if entries:
        return [Target(_normal(e.path), e) for e in entries]
    return [Target(name, None) for name in model_files(facts)]


def _read_log(facts: Facts) -> Log:
    from ssdf_ai.errors import Error
    from ssdf_ai.integrity.keys import PublicKey, load_public_key
    from ssdf_ai.provenance.runs import scan_log

    trusted: dict[str, PublicKey] = {}
    problems: list[str] = []
    for signer in facts.loaded.config.signers:
        try:
            trusted[signer.name] = load_public_key(facts.loaded.root / signer.public_key)
        except Error as exc:
            problems.append(f"[[signers]] {signer.name!r}: the public key cannot be used: {exc}")
    try:
        runs, line_problems = scan_log(facts.root, trusted=trusted)
    except Error as exc:
        return Log([], problems, exc.message)
    return Log(runs, problems + line_problems)


def recorded(facts: Facts) -> Log:
    """The recorded training runs, read once per assessment."""
    return facts.memo("provenance.log", lambda: _read_log(facts))


def _read_registry(facts: Facts) -> dict[str, Registration]:
    from ssdf_ai.provenance.registry import REGISTRATION_KIND, DatasetEntry

    found: dict[str, Registration] = {}
    for artifact in facts.artifacts:  # newest first
        if artifact.kind != REGISTRATION_KIND:
            continue
        data = facts.artifact_bytes(artifact.digest)
        if data is None:
            continue
        try:
            entry = DatasetEntry.model_validate(json.loads(data))
        except ValueError:
            continue  # a damaged blob is reported by `ssdf evidence verify`
        found.setdefault(entry.path, Registration(entry, artifact))
    return found


def registry(facts: Facts) -> dict[str, Registration]:
    """The dataset registry (the newest registration of each path), read once per assessment."""
    return facts.memo("provenance.registry", lambda: _read_registry(facts))


def _lookup(facts: Facts, name: str, digest: str | None) -> Registration | None:
    """The registration covering ``name`` with this content (as :func:`registry.lookup`)."""
    from ssdf_ai.provenance.registry import lookup

    found = registry(facts)
    entry = lookup({k: v.entry for k, v in found.items()}, name, digest)
    return None if entry is None else found[entry.path]


def documents(facts: Facts, command: str, kinds: Iterable[str]) -> list[Document]:
    """The artifacts of these kinds recorded by successful runs of ``command``, newest first,
    each with the subject it is about."""
    wanted = set(kinds)
    found: list[Document] = []
    for detail in facts.history.get(command, []):  # newest first
        run = detail.run
        if run.status is not RunStatus.FINISHED or run.finished_at is None or run.exit_code:
            continue
        subjects = {s.id: s for s in detail.subjects}
        for artifact in detail.artifacts:
            if artifact.kind not in wanted:
                continue
            subject = subjects.get(artifact.subject_id) if artifact.subject_id else None
            if subject is None and len(detail.subjects) == 1:
                subject = detail.subjects[0]
            if subject is not None:
                found.append(Document(subject.name, artifact.kind, artifact, detail))
    return found


def _about(found: Sequence[Document], path: str) -> list[Document]:
    """The documents whose subject is ``path`` or a folder above it (newest first)."""
    return [d for d in found if covers(d.subject, path)]


def _under(name: str, path: str) -> bool:
    return path == "." or name == path or name.startswith(path.rstrip("/") + "/")


def producing(facts: Facts, path: str) -> list[RecordedRun]:
    """The recorded runs that produced ``path`` or files under it, oldest first."""
    from ssdf_ai.provenance.runs import runs_producing

    return runs_producing(recorded(facts).runs, path)


def _moment(text: str) -> dt.datetime | None:
    try:
        return _utc(dt.datetime.fromisoformat(text))
    except ValueError:
        return None


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _record_run_ids(facts: Facts) -> dict[str, int]:
    """The evidence store's ``record`` run of each recorded invocation, by invocation id."""

    def read() -> dict[str, int]:
        ids: dict[str, int] = {}
        for artifact in facts.artifacts:
            name = artifact.name or ""
            if artifact.kind == PROVENANCE_KIND and name.startswith("record-"):
                ids.setdefault(
                    name.removeprefix("record-").removesuffix(".dsse.json"), artifact.run_id
                )
        return ids

    return facts.memo("provenance.record-runs", read)


@dataclasses.dataclass(frozen=True)
class Baseline:
    """What a document about a model must be newer than: its newest signature and the newest
    run that produced it."""

    signature_run: int
    run: RecordedRun | None

    def newer(self, document: Document) -> str:
        """What ``document`` is older than, in words (see :func:`is_current`)."""
        if document.run_id <= self.signature_run or self.run is None:
            return f"its newest signature (run:{self.signature_run})"
        return f"its newest training run ({self.run.name!r}, .intoto.jsonl line {self.run.line})"


def baseline(facts: Facts, path: str) -> Baseline:
    """The newest signature (of the model, a folder above it or a file in it) and the newest
    run that produced it."""
    newest = 0
    for name, history in signatures(facts).items():
        if covers(name, path) or covers(path, name):
            newest = max(newest, history[0].run_id)
    runs = producing(facts, path)
    return Baseline(newest, runs[-1] if runs else None)


def is_current(facts: Facts, document: Document, base: Baseline) -> bool:
    """Whether ``document`` was recorded after the model's newest signature and training run."""
    if document.run_id <= base.signature_run:
        return False
    if base.run is None:
        return True
    store_run = _record_run_ids(facts).get(base.run.invocation_id)
    if store_run is not None:
        return document.run_id > store_run
    finished = _moment(base.run.finished_on)
    return finished is None or _utc(document.detail.run.started_at) >= finished


def _short(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _document_link(document: Document, what: str) -> EvidenceLink:
    # Undated on purpose: a document describes a version of the model, and does not go stale.
    return EvidenceLink(
        kind="artifact",
        ref=f"sha256:{document.artifact.digest}",
        note=f"{what} of {document.subject} (run:{document.run_id})",
    )


def _run_link(run: RecordedRun) -> EvidenceLink:
    from ssdf_ai.provenance.runs import LOG_FILE

    signer = f"signed by {run.signer}" if run.signer else "not verified"
    return EvidenceLink(
        kind="file",
        ref=f"{LOG_FILE}#L{run.line}",
        note=f"run {run.name!r} ({signer})",
    )


def _no_targets(this: Control) -> ControlResult:
    return this.result(
        Outcome.NOT_APPLICABLE,
        NO_MODELS + "; declare the project's models in [[models]] in ssdf.toml",
    )


# -- training provenance ---------------------------------------------------------------------


def _environment(run: RecordedRun) -> tuple[list[str], list[str]]:
    """What the run's provenance says of its build environment, and what it lacks."""
    env = run.environment
    said: list[str] = []
    lacks: list[str] = []
    python = env.get("python")
    if isinstance(python, str) and python:
        said.append(f"Python {python}")
    elif isinstance(python, dict) and python.get("version"):
        said.append(f"Python {python['version']}")
    else:
        lacks.append("the interpreter version")
    if run.packages:
        versions = dict(run.packages)
        named = [f"{p} {versions[p]}" for p in KEY_PACKAGES if versions.get(p)]
        said.append(f"{len(run.packages)} package(s)" + (f" ({', '.join(named)})" if named else ""))
    else:
        lacks.append("the package versions")
    compilers = [str(env[k]).split("\n")[0] for k in COMPILER_KEYS if env.get(k)]
    if compilers:
        said.append(f"compiler {compilers[0]}")
    if env.get("cuda"):
        said.append(f"CUDA {env['cuda']}")
    return said, lacks


def _changes(facts: Facts, run: RecordedRun, path: str) -> list[tuple[str, str]]:
    """The run's outputs under ``path`` that changed or are missing now (hashed once)."""
    from ssdf_ai.provenance.runs import output_changes

    key = f"provenance.changes:{run.invocation_id}:{run.line}"
    changes = facts.memo(key, lambda: output_changes(facts.root, run))
    return [(name, how) for name, how in changes if _under(name, path)]


def _weights(facts: Facts, path: str) -> list[str]:
    """The model weight files now under ``path`` (the path itself when it is a file)."""
    return [
        name
        for name in facts.files_under((path,))
        if PurePosixPath(name).suffix.lower() in MODEL_SUFFIXES
    ]


@control(
    "training-provenance-recorded",
    title="Training provenance recorded, signed and matching",
    question="Does every model in [[models]] (or under the model paths) have a recorded "
    "`ssdf record` run that produced it, signed by a trusted signer, whose recorded outputs "
    "still match the model, and which captured the interpreter and package versions (and "
    "compilers and CUDA where present)?",
    task_ids=("PS.3.2", "PW.6.2", "PO.3.3"),
    item_ids=("PS.3.2.R1", "PW.6.2.C1", "PO.3.3.N1"),
    motivation="A model is only as trustworthy as the data, code, libraries and toolchain that "
    "made it; signed SLSA provenance of the training run lets anyone check what went in and "
    "that the model released is the one that came out.",
    remediation="Run the training under `ssdf record --dataset DATA --output MODEL --key KEY -- "
    "COMMAND` with a key that [[signers]] trusts; check the log with `ssdf provenance verify`; "
    "after the model changed, record the run that made the new version.",
    effort=Effort.MEDIUM,
)
def training_provenance_recorded(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when, for each model, a successful producing run signed by a trusted signer
    recorded exactly the files the model has now (every weight file among its outputs), and
    captured the interpreter and the packages."""
    models = targets(facts)
    if not models:
        return _no_targets(this)
    log = recorded(facts)
    if log.error:
        return this.result(Outcome.UNKNOWN, f"the training log cannot be read: {log.error}")
    if not log.runs:
        return this.result(Outcome.NOT_SATISFIED, NO_RUN)
    broken: list[str] = []
    gaps: list[str] = []
    good: list[str] = []
    links: list[EvidenceLink] = []
    unverified = changed = False
    for target in models:
        runs = [r for r in producing(facts, target.path) if r.exit_code == 0]
        if not runs:
            others = producing(facts, target.path)
            broken.append(
                f"the only runs that produced {target.label} failed (run {others[-1].name!r} "
                f"exited {others[-1].exit_code})"
                if others
                else f"no recorded run produced {target.label}"
            )
            continue
        trusted = [r for r in runs if r.verified]
        if not trusted:
            newest = runs[-1]
            links.append(_run_link(newest))
            unverified = True
            broken.append(
                f"the provenance of {target.label} does not verify (line {newest.line}: "
                f"{'; '.join(newest.problems[:2])})"
            )
            continue
        matching = [r for r in reversed(trusted) if not _changes(facts, r, target.path)]
        if not matching:
            run = trusted[-1]
            links.append(_run_link(run))
            how = [f"{name} {kind}" for name, kind in _changes(facts, run, target.path)]
            changed = True
            broken.append(
                f"{target.label} changed after its run ({_short(how, 3)} since run "
                f"{run.name!r}, line {run.line})"
            )
            continue
        run = matching[0]
        links.append(_run_link(run))
        produced = {o.name for r in trusted for o in r.outputs}
        strays = [w for w in _weights(facts, target.path) if w not in produced]
        if strays:
            gaps.append(
                f"weight files of {target.label} were not produced by a recorded run: "
                + _short(strays, 3)
            )
            continue
        said, lacks = _environment(run)
        if lacks:
            gaps.append(
                f"the run {run.name!r} that produced {target.label} did not record "
                + " and ".join(lacks)
            )
            continue
        good.append(f"{target.label}: run {run.name!r} signed by {run.signer}, {', '.join(said)}")
    if broken:
        hint = RECORD_HINT
        if unverified:
            hint = (
                "sign the run with a key that [[signers]] trusts (`ssdf record --key KEY`) and "
                "check the log with `ssdf provenance verify`"
            )
        elif changed:
            hint = (
                "record the run that made the new version with `ssdf record`, or restore the model"
            )
        outcome = Outcome.PARTIAL if good or gaps else Outcome.NOT_SATISFIED
        return this.result(outcome, f"{'; '.join(broken[:4])}; {hint}", links)
    if log.problems:
        gaps.append(
            f"{len(log.problems)} problem(s) in the training log (e.g. {log.problems[0]}); "
            "see `ssdf provenance verify`"
        )
    if gaps:
        return this.result(Outcome.PARTIAL, "; ".join(gaps), links)
    return this.result(
        Outcome.SATISFIED,
        f"{len(good)} model(s) with verified training provenance: {'; '.join(good[:3])}"
        + (f"; and {len(good) - 3} more" if len(good) > 3 else ""),
        links,
    )


# -- data provenance -------------------------------------------------------------------------


@control(
    "data-provenance-tracked",
    title="Provenance of training data tracked",
    question="Is every dataset that a recorded training run consumed registered with "
    "`ssdf data register` (source, licence, whether its provenance is known) with the content "
    "the run used, and is data of unknown provenance documented?",
    task_ids=("PW.3.2",),
    item_ids=("PW.3.2.N1",),
    motivation="Training, testing, fine-tuning and aligning data of unknown origin is where "
    "poisoning enters; SP 800-218A asks to track the provenance of all such data and to "
    "document which data has no known provenance.",
    remediation="Register each dataset the training runs use with `ssdf data register PATH "
    "--source URI --license ID --provenance known|unknown`; list what is untracked with "
    "`ssdf data list`.",
    effort=Effort.LOW,
)
def data_provenance_tracked(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when every consumed dataset's content is registered with known provenance;
    partial with data of unknown provenance; not satisfied with unregistered data."""
    from ssdf_ai.provenance.registry import Provenance
    from ssdf_ai.provenance.runs import datasets_consumed

    if facts.store_error:
        return this.result(
            Outcome.UNKNOWN, f"the evidence store cannot be read: {facts.store_error}"
        )
    log = recorded(facts)
    if log.error:
        return this.result(Outcome.UNKNOWN, f"the training log cannot be read: {log.error}")
    registered = registry(facts)
    if not log.runs:
        return this.result(
            Outcome.NOT_SATISFIED,
            "no training run is recorded, so which data the models were trained on is not "
            f"tracked; {RECORD_HINT}",
        )
    consumed = datasets_consumed(log.runs)
    if not consumed:
        outcome = Outcome.PARTIAL if registered else Outcome.NOT_SATISFIED
        return this.result(
            outcome,
            f"{len(log.runs)} run(s) recorded, {len(registered)} dataset(s) registered, but no "
            "recorded run names a dataset input; name the training data with `ssdf record "
            "--dataset PATH`",
        )
    unregistered: list[str] = []
    unknown: list[str] = []
    known: list[str] = []
    links: dict[str, EvidenceLink] = {}
    for dataset in consumed:
        found = [_lookup(facts, dataset.name, d) for d in dataset.digests or (None,)]
        for registration in found:
            if registration is not None:
                links[registration.artifact.digest] = EvidenceLink(
                    kind="artifact",
                    ref=f"sha256:{registration.artifact.digest}",
                    note=f"registration of {registration.entry.path}: provenance "
                    f"{registration.entry.provenance.value}, source {registration.entry.source}",
                )
        if any(r is None for r in found):
            changed = dataset.name in registered
            unregistered.append(
                dataset.name + (" (registered with other content)" if changed else "")
            )
        elif any(r is not None and r.entry.provenance is Provenance.UNKNOWN for r in found):
            sources = sorted({r.entry.source for r in found if r is not None})
            unknown.append(f"{dataset.name} (source {', '.join(sources)})")
        else:
            known.append(dataset.name)
    evidence = list(links.values())
    if unregistered:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"{len(unregistered)} of {len(consumed)} dataset(s) used by recorded runs are not "
            f"registered: {_short(unregistered)}; register them with `ssdf data register PATH "
            "--source URI --license ID --provenance known|unknown`",
            evidence,
        )
    if unknown:
        return this.result(
            Outcome.PARTIAL,
            f"{len(unknown)} of {len(consumed)} dataset(s) used by recorded runs have unknown "
            f"provenance (documented, PW.3.2 N1): {_short(unknown)}",
            evidence,
        )
    return this.result(
        Outcome.SATISFIED,
        f"all {len(consumed)} dataset(s) used by recorded runs are registered with known "
        f"provenance: {_short(known)}",
        evidence,
    )


# -- sensitive data --------------------------------------------------------------------------

_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_<>\[\]|])")


def _plain(text: str) -> str:
    """Markdown text as words: escapes removed, whitespace collapsed (as cards write values)."""
    return " ".join(_MARKDOWN_ESCAPE.sub(r"\1", text).split())


def _categories(annotations: dict[str, Any]) -> list[str]:
    value = annotations.get("sensitive")
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


@dataclasses.dataclass(frozen=True)
class Sensitive:
    """A model (or a model file) whose newest producing run consumed sensitive data."""

    name: str
    run: RecordedRun
    categories: tuple[str, ...]
    datasets: tuple[str, ...]
    restrictions: dict[str, str]
    target: Target | None


def sensitive_models(facts: Facts) -> list[Sensitive]:
    """Models whose newest producing run consumed data recorded as sensitive, or registered as
    sensitive (with the content the run used) since: a declared model as a whole, and any other
    output the run marked as a model."""
    runs = recorded(facts).runs
    newest: dict[str, RecordedRun] = {}
    for run in runs:  # oldest first: later runs replace earlier ones
        for output in run.outputs:
            newest[output.name] = run
    declared = targets(facts)
    found: dict[str, Sensitive] = {}
    for name, run in sorted(newest.items()):
        output = next(o for o in run.outputs if o.name == name)
        target = next((t for t in declared if _under(name, t.path)), None)
        if target is None and output.annotations.get("kind") != "model":
            continue
        categories: list[str] = []
        datasets: list[str] = []
        for resource in run.inputs:
            cats = _categories(resource.annotations)
            if resource.kind == "dataset":
                registration = _lookup(facts, resource.name, resource.digest)
                if registration is not None:
                    cats += [c for c in registration.entry.sensitive if c not in cats]
            if cats:
                datasets.append(resource.name)
                categories += [c for c in cats if c not in categories]
        if not categories:
            continue
        value = output.annotations.get("restrictions")
        restrictions = {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
        key = target.path if target is not None else name
        known = found.get(key)
        if known is not None:  # a model folder: merge its files
            restrictions = {c: r for c, r in known.restrictions.items() if restrictions.get(c) == r}
            categories = list(dict.fromkeys([*known.categories, *categories]))
            datasets = list(dict.fromkeys([*known.datasets, *datasets]))
        found[key] = Sensitive(key, run, tuple(categories), tuple(datasets), restrictions, target)
    return [found[k] for k in sorted(found)]


@control(
    "sensitive-data-tracked",
    title="Models trained on sensitive data carry their access restriction",
    question="Does every model whose training run consumed sensitive data (registered with "
    "`ssdf data register --sensitive`) carry the access restriction [data] configures for each "
    "category in its signed provenance, and state it in its model card when one was generated?",
    task_ids=("PS.3.2",),
    item_ids=("PS.3.2.R2",),
    motivation="A model can leak the sensitive data it was trained on; SP 800-218A asks to "
    "track such models and to decide whether access to them should be restricted to those who "
    "may already see the data.",
    remediation="Register sensitive data with `ssdf data register PATH --sensitive CATEGORY`, "
    "set [data.restrictions] in ssdf.toml, record the training with `ssdf record` (it writes "
    "the restriction into the provenance) and regenerate the card with `ssdf card MODEL`.",
    effort=Effort.LOW,
)
def sensitive_data_tracked(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when no recorded run used sensitive data, or when every model made from it
    carries each category's restriction in its provenance and in its newest model card."""
    if facts.store_error:
        return this.result(
            Outcome.UNKNOWN, f"the evidence store cannot be read: {facts.store_error}"
        )
    log = recorded(facts)
    if log.error:
        return this.result(Outcome.UNKNOWN, f"the training log cannot be read: {log.error}")
    if not log.runs:
        return this.result(
            Outcome.NOT_SATISFIED,
            "no training run is recorded, so which models were trained on sensitive data is "
            f"not known; {RECORD_HINT}",
        )
    configured = facts.loaded.config.data
    cards = documents(facts, CARD_COMMAND, (MODEL_CARD_KIND,))
    unrestricted: list[str] = []
    outdated: list[str] = []
    undisclosed: list[str] = []
    fine: list[str] = []
    links: list[EvidenceLink] = []
    found = sensitive_models(facts)
    for model in found:
        links.append(_run_link(model.run))
        label = model.target.label if model.target else model.name
        missing = [c for c in model.categories if c not in model.restrictions]
        if missing:
            unrestricted.append(
                f"{label} (trained on {', '.join(missing)} data from "
                f"{_short(list(model.datasets), 3)}; run {model.run.name!r}, line "
                f"{model.run.line}, carries no restriction for it)"
            )
            continue
        differing = [
            c for c in model.categories if model.restrictions[c] != configured.restriction_for(c)
        ]
        if differing:
            outdated.append(
                f"{label} ({', '.join(differing)}: the run recorded "
                f"{model.restrictions[differing[0]]!r}, [data] now says "
                f"{configured.restriction_for(differing[0])!r})"
            )
            continue
        card = _about(cards, model.name)[:1] if model.target is not None else []
        if card:
            links.append(_document_link(card[0], "model card"))
            text = _plain(
                (facts.artifact_bytes(card[0].artifact.digest) or b"").decode("utf-8", "replace")
            )
            absent = [c for c in model.categories if _plain(model.restrictions[c]) not in text]
            if absent:
                undisclosed.append(
                    f"{label} (its model card, run:{card[0].run_id}, does not state the "
                    f"restriction for {', '.join(absent)})"
                )
                continue
        fine.append(
            f"{label} ({', '.join(f'{c}: {model.restrictions[c]}' for c in model.categories)})"
        )
    if unrestricted or undisclosed:
        problems = [*unrestricted, *undisclosed]
        hint = (
            "record the training again with `ssdf record` so that its provenance carries the "
            "restriction"
            if unrestricted
            else "regenerate the card with `ssdf card MODEL`"
        )
        return this.result(
            Outcome.NOT_SATISFIED,
            f"{len(problems)} model(s) trained on sensitive data without their access "
            f"restriction: {_short(problems, 3)}; {hint}",
            links,
        )
    if outdated:
        return this.result(
            Outcome.PARTIAL,
            f"{len(outdated)} model(s) carry another restriction than [data] now configures: "
            f"{_short(outdated, 3)}; record the training again with `ssdf record`",
            links,
        )
    if fine:
        return this.result(
            Outcome.SATISFIED,
            f"{len(fine)} model(s) trained on sensitive data carry their access restriction: "
            + _short(fine, 3),
            links,
        )
    unknown = [t.label for t in targets(facts) if not producing(facts, t.path)]
    if unknown:
        return this.result(
            Outcome.PARTIAL,
            f"no recorded run consumed sensitive data, but the data of {_short(unknown)} is not "
            f"recorded; {RECORD_HINT}",
        )
    used = len({d.name for r in log.runs for d in r.datasets})
    return this.result(
        Outcome.SATISFIED,
        f"no sensitive data was used: none of the {used} dataset(s) that the {len(log.runs)} "
        "recorded run(s) consumed is registered or recorded as sensitive",
    )


# -- documents: BOMs, cards, releases --------------------------------------------------------


def _coverage(
    facts: Facts,
    found: Sequence[Document],
    what: str,
    *,
    subjects: Sequence[tuple[str, str, Baseline]],
) -> tuple[list[str], list[str], list[tuple[str, Document]], list[EvidenceLink]]:
    """Sort subjects into those without a document, those whose newest document is out of
    date, and those with a current one; with links to the newest documents."""
    missing: list[str] = []
    old: list[str] = []
    current: list[tuple[str, Document]] = []
    links: list[EvidenceLink] = []
    for path, label, base in subjects:
        mine = _about(found, path)
        if not mine:
            missing.append(label)
            continue
        newest = mine[0]
        links.append(_document_link(newest, what))
        fresh = [d for d in mine if is_current(facts, d, base)]
        if not fresh:
            old.append(f"{label} (run:{newest.run_id} is older than {base.newer(newest)})")
        else:
            current.append((label, fresh[0]))
    return missing, old, current, links


def _documented(
    this: Control,
    *,
    missing: list[str],
    old: list[str],
    total: int,
    what: str,
    hint: str,
    links: list[EvidenceLink],
    noun: str = "model(s)",
) -> ControlResult | None:
    """The result when some subjects lack a current document; ``None`` when all have one."""
    if missing:
        return this.result(
            Outcome.PARTIAL if len(missing) < total else Outcome.NOT_SATISFIED,
            f"no {what} is recorded for {len(missing)} of {total} {noun}: "
            f"{_short(missing)}; {hint}",
            links,
        )
    if old:
        return this.result(
            Outcome.STALE,
            f"the {what} of {len(old)} of {total} {noun} is out of date: {_short(old, 3)}; {hint}",
            links,
        )
    return None


@control(
    "bom-generated",
    title="A bill of materials for every model",
    question="Is a CycloneDX or SPDX bill of materials (`ssdf bom`) recorded for every model in "
    "[[models]] (or under the model paths), newer than the model's newest signature and "
    "training run?",
    task_ids=("PS.3.2", "PO.3.3"),
    item_ids=("PS.3.2.R1", "PS.3.2.C1"),
    motivation="An AI bill of materials lists a model's files, datasets (with their "
    "provenance), frameworks, base model and training run, so that acquirers and responders "
    "know what a release contains when a component turns out to be vulnerable.",
    remediation="Write and record a BOM for each model with `ssdf bom MODEL --output "
    "MODEL.cdx.json --spdx-output MODEL.spdx.json`, again after each new signature or training "
    "run.",
    effort=Effort.LOW,
)
def bom_generated(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when each model's newest BOM postdates its newest signature and run."""
    if facts.store_error:
        return this.result(
            Outcome.UNKNOWN, f"the evidence store cannot be read: {facts.store_error}"
        )
    models = targets(facts)
    if not models:
        return _no_targets(this)
    found = documents(facts, BOM_COMMAND, BOM_KINDS)
    missing, old, current, links = _coverage(
        facts,
        found,
        "BOM",
        subjects=[(t.path, t.label, baseline(facts, t.path)) for t in models],
    )
    hint = "write it with `ssdf bom MODEL --spdx-output MODEL.spdx.json`"
    failed = _documented(
        this, missing=missing, old=old, total=len(models), what="BOM", hint=hint, links=links
    )
    if failed is not None:
        return failed
    said = []
    for label, document in current:
        formats = sorted({BOM_KINDS[d.kind] for d in found if d.detail is document.detail})
        said.append(f"{label} ({' and '.join(formats)}, run:{document.run_id})")
    return this.result(
        Outcome.SATISFIED,
        f"a current BOM is recorded for all {len(models)} model(s): {_short(said, 3)}",
        links,
    )


@control(
    "cards-generated",
    title="Model and data cards generated from evidence",
    question="Is a model card (`ssdf card MODEL`) recorded for every model in [[models]] (or "
    "under the model paths), newer than its newest signature and training run, and a data card "
    "(`ssdf card DATASET --data`) for every registered dataset, newer than its registration?",
    task_ids=("PO.1.2",),
    item_ids=("PO.1.2.N1",),
    motivation="Model and data cards document what a model is for, what it must not be used "
    "for, what it was trained on and how it was checked; written from recorded evidence, they "
    "say what is not known instead of inventing it.",
    remediation="Write and record the cards with `ssdf card MODEL --output MODEL_CARD.md` and "
    "`ssdf card DATASET --data --output DATA_CARD.md`, again after each new signature, "
    "training run or registration.",
    effort=Effort.LOW,
)
def cards_generated(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when every model and every registered dataset has a current card."""
    if facts.store_error:
        return this.result(
            Outcome.UNKNOWN, f"the evidence store cannot be read: {facts.store_error}"
        )
    models = targets(facts)
    datasets = registry(facts)
    if not models and not datasets:
        return this.result(Outcome.NOT_APPLICABLE, f"{NO_MODELS}, and no dataset is registered")
    model_cards = documents(facts, CARD_COMMAND, (MODEL_CARD_KIND,))
    data_cards = documents(facts, CARD_COMMAND, (DATA_CARD_KIND,))
    m_missing, m_old, m_current, links = _coverage(
        facts,
        model_cards,
        "model card",
        subjects=[(t.path, t.label, baseline(facts, t.path)) for t in models],
    )
    d_missing: list[str] = []
    d_old: list[str] = []
    for path, registration in sorted(datasets.items()):
        mine = [d for d in data_cards if covers(d.subject, path)]
        if not mine:
            d_missing.append(path)
            continue
        links.append(_document_link(mine[0], "data card"))
        if mine[0].run_id <= registration.artifact.run_id:
            d_old.append(
                f"{path} (run:{mine[0].run_id} is older than its newest registration, "
                f"run:{registration.artifact.run_id})"
            )
    missing = [*(f"model {m}" for m in m_missing), *(f"dataset {d}" for d in d_missing)]
    old = [*(f"model {m}" for m in m_old), *(f"dataset {d}" for d in d_old)]
    total = len(models) + len(datasets)
    hints = []
    if m_missing or m_old:
        hints.append("`ssdf card MODEL --output MODEL_CARD.md`")
    if d_missing or d_old:
        hints.append("`ssdf card DATASET --data --output DATA_CARD.md`")
    failed = _documented(
        this,
        missing=missing,
        old=old,
        total=total,
        what="card",
        hint="write it with " + " and ".join(hints),
        links=links,
        noun="model(s) and registered dataset(s)",
    )
    if failed is not None:
        return failed
    return this.result(
        Outcome.SATISFIED,
        f"current cards are recorded for all {len(m_current)} model(s) and "
        f"{len(datasets)} registered dataset(s)",
        links,
    )


def _manifest(facts: Facts, document: Document) -> dict[str, Any] | None:
    data = facts.artifact_bytes(document.artifact.digest)
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _members(manifest: dict[str, Any]) -> set[str]:
    members = manifest.get("members")
    if not isinstance(members, list):
        return set()
    return {str(m.get("name")) for m in members if isinstance(m, dict)}


def _archive_kept(facts: Facts, document: Document) -> bool:
    """Whether the release's archive, recorded by the same run, is kept in the store."""
    archive = next((a for a in document.detail.artifacts if a.kind == RELEASE_ARCHIVE_KIND), None)
    if archive is None or facts.blobs is None:
        return False
    try:
        return facts.blobs.path(archive.digest).stat().st_size == archive.size
    except (OSError, ValueError):
        return False


@control(
    "release-archived",
    title="Each model released as a signed archive with its provenance",
    question="Is a release archive (`ssdf release build`) recorded and kept for every model in "
    "[[models]] (or under the model paths), built after the model's newest signature, holding "
    "the provenance of its training run, with the justification for choosing the model "
    "documented in [[models]]?",
    task_ids=("PS.3.1",),
    item_ids=("PS.3.1.R1", "PS.3.1.R2", "PS.3.1.R3"),
    motivation="Whoever receives a model, and whoever investigates it later, needs the files "
    "that make up the release together: its signature, how it was trained and with which "
    "tools (provenance), what it contains (BOMs), why it was chosen and what it is for (card), "
    "all signed as one.",
    remediation="Give each model a [[models]] entry with its justification in ssdf.toml, record "
    "its training with `ssdf record`, sign it with `ssdf sign MODEL --key KEY`, then run "
    "`ssdf release build MODEL --version V --key KEY` and check it with `ssdf release verify`.",
    effort=Effort.MEDIUM,
)
def release_archived(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when each model's newest release postdates its newest signature and training
    run, is kept in the store, holds provenance, and the model's justification is documented."""
    if facts.store_error:
        return this.result(
            Outcome.UNKNOWN, f"the evidence store cannot be read: {facts.store_error}"
        )
    models = targets(facts)
    if not models:
        return _no_targets(this)
    found = documents(facts, RELEASE_COMMAND, (RELEASE_MANIFEST_KIND,))
    missing, old, current, links = _coverage(
        facts,
        found,
        "release manifest",
        subjects=[(t.path, t.label, baseline(facts, t.path)) for t in models],
    )
    hint = "build one with `ssdf release build MODEL --version V --key KEY`"
    failed = _documented(
        this, missing=missing, old=old, total=len(models), what="release", hint=hint, links=links
    )
    if failed is not None:
        return failed
    by_label = {t.label: t for t in models}
    gaps: list[str] = []
    said: list[str] = []
    for label, document in current:
        manifest = _manifest(facts, document)
        version = manifest.get("version") if manifest else None
        name = f"{label} {version}" if isinstance(version, str) else label
        if manifest is None:
            gaps.append(f"the manifest of {name} (run:{document.run_id}) cannot be read")
            continue
        if not _archive_kept(facts, document):
            gaps.append(f"the archive of {name} is not kept in the evidence store")
        if RELEASE_PROVENANCE not in _members(manifest):
            gaps.append(
                f"the release of {name} holds no training provenance ({RELEASE_PROVENANCE}; "
                "record the training with `ssdf record` and build a new version)"
            )
        entry = by_label[label].entry
        if entry is None or not entry.justification.strip():
            gaps.append(
                f"no justification for choosing {label} is documented (add a [[models]] entry "
                "with `justification` to ssdf.toml)"
            )
        said.append(f"{name} (run:{document.run_id})")
    if gaps:
        return this.result(Outcome.PARTIAL, "; ".join(gaps[:4]), links)
    return this.result(
        Outcome.SATISFIED,
        f"all {len(models)} model(s) released after their newest signature, with provenance "
        f"and a documented justification: {_short(said, 3)}",
        links,
    )


CONTROLS: tuple[Control, ...] = (
    training_provenance_recorded,
    data_provenance_tracked,
    sensitive_data_tracked,
    bom_generated,
    cards_generated,
    release_archived,
)
