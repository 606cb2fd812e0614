"""The assessment's controls for model and dataset integrity (PS.1.2, PS.1.3, PS.2.1, PS.3.1).

They read the ``ssdf sign``, ``ssdf verify`` and ``ssdf watch`` runs recorded in the evidence
store (every run of these commands, not only the newest: signatures are per model); they never
hash a file or check a signature themselves.

* A signature is a finished ``sign`` run with exit code 0: its subject (the signed folder or
  file, named relative to the project root) carries the OMS root digest, its ``model-signature``
  artifact is the signature file.
* A verification of a subject counts for its newest signature when it was recorded after it
  (a higher run id) under the same subject name; it passes with exit code 0.
* A signature no longer matches its model when the newest verification after it failed, or
  when an ``ssdf watch`` integrity alert about the model is unresolved (no later ``restored``
  alert, passing verification or new signature settles it).

What a signature covers does not go stale: the signed bytes do not change with time. Whether
anyone still checks them does: verifications and monitoring older than
``checks.evidence.max_age_days`` are stale.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ssdf_ai.assess._facts import MODEL_SUFFIXES
from ssdf_ai.assess.controls import Control, control
from ssdf_ai.assess.model import ControlResult, Effort, EvidenceLink
from ssdf_ai.evidence import SubjectKind
from ssdf_ai.findings import Outcome
from ssdf_ai.integrity import rules
from ssdf_ai.store.records import RunStatus

if TYPE_CHECKING:
    import datetime as dt

    from ssdf_ai.assess._facts import Facts
    from ssdf_ai.store import ArtifactRecord, FindingRecord, RunDetail

SIGN_COMMAND = "sign"
VERIFY_COMMAND = "verify"
WATCH_COMMAND = "watch"
SIGNATURE_KIND = "model-signature"
# A signature is read back from the store (for its parent) only up to this size; a signature
# this large lists about 100,000 files.
MAX_SIGNATURE_READ = 16 << 20

NO_MODEL_SIGNATURE = (
    "no model signature is recorded; sign each model with `ssdf sign MODEL --key KEY`"
)
NO_SIGNATURE = (
    "no signature is recorded, so there is nothing to verify; sign with `ssdf sign PATH --key KEY`"
)


@dataclasses.dataclass(frozen=True)
class Signature:
    """One recorded signature of a model or dataset.

    Attributes:
        name: The signed subject's name (project-relative path, or the path given).
        kind: ``model`` or ``dataset``.
        root: The OMS root digest the signature records.
        detail: The ``sign`` run.
        artifact: The signature file as recorded, if it was.
    """

    name: str
    kind: SubjectKind
    root: str | None
    detail: RunDetail
    artifact: ArtifactRecord | None

    @property
    def run_id(self) -> int:
        """The ``sign`` run's id."""
        return self.detail.run.id


@dataclasses.dataclass(frozen=True)
class Check:
    """The newest verification of a signed subject since its newest signature."""

    signature: Signature
    verify: RunDetail | None

    @property
    def failed(self) -> bool:
        """Whether the verification exists and failed: the signature no longer matches."""
        return self.verify is not None and self.verify.run.exit_code != 0


def _finished(detail: RunDetail) -> bool:
    return detail.run.status is RunStatus.FINISHED and detail.run.finished_at is not None


def signatures(facts: Facts) -> dict[str, list[Signature]]:
    """Every successful signature by subject name, newest first."""
    found: dict[str, list[Signature]] = {}
    for detail in facts.history.get(SIGN_COMMAND, []):
        if not _finished(detail) or detail.run.exit_code != 0:
            continue
        for subject in detail.subjects:
            if subject.kind not in (SubjectKind.MODEL, SubjectKind.DATASET):
                continue
            artifact = next(
                (
                    a
                    for a in detail.artifacts
                    if a.kind == SIGNATURE_KIND and a.subject_id in (subject.id, None)
                ),
                None,
            )
            found.setdefault(subject.name, []).append(
                Signature(subject.name, subject.kind, subject.digest, detail, artifact)
            )
    for history in found.values():
        history.sort(key=lambda s: s.run_id, reverse=True)
    return found


def newest_signatures(facts: Facts, kind: SubjectKind | None = None) -> list[Signature]:
    """The newest signature of each subject (of ``kind``, or of any kind), by name."""
    return sorted(
        (history[0] for history in signatures(facts).values() if kind in (None, history[0].kind)),
        key=lambda s: s.name,
    )


def _verifications(facts: Facts) -> dict[str, list[RunDetail]]:
    by_name: dict[str, list[RunDetail]] = {}
    for detail in facts.history.get(VERIFY_COMMAND, []):  # newest first
        if not _finished(detail):
            continue
        for subject in detail.subjects:
            by_name.setdefault(subject.name, []).append(detail)
    return by_name


def checks(facts: Facts, signed: list[Signature]) -> list[Check]:
    """Each signature with the newest verification recorded after it."""
    verified = _verifications(facts)
    return [
        Check(
            s,
            next((v for v in verified.get(s.name, []) if v.run.id > s.run_id), None),
        )
        for s in signed
    ]


def covers(subject: str, path: str) -> bool:
    """Whether a signature of ``subject`` covers ``path`` (the path itself, or a folder above)."""
    if subject in (".", ""):
        return not PurePosixPath(path).is_absolute()
    return path == subject or path.startswith(subject.rstrip("/") + "/")


def present(facts: Facts, name: str) -> bool:
    """Whether a signed subject still exists (project-relative names inside the project)."""
    path = Path(name)
    if not path.is_absolute():
        path = facts.root / name
        if not facts.inside(path):
            return False
    try:
        return path.exists()
    except OSError:
        return False


def model_files(facts: Facts) -> list[str]:
    """Model weight files the project knows: those under the configured model paths, and those
    the newest scan recorded that are still in the project (by suffix, as for model cards)."""
    found = {
        name
        for name in facts.files_under(facts.loaded.config.paths.models)
        if PurePosixPath(name).suffix.lower() in MODEL_SUFFIXES
    }
    scan = facts.latest.get("scan")
    for subject in scan.subjects if scan else []:
        if (
            subject.kind is SubjectKind.MODEL
            and PurePosixPath(subject.name).suffix.lower() in MODEL_SUFFIXES
            and not PurePosixPath(subject.name).is_absolute()
            and facts.first_file(subject.name) is not None
        ):
            found.add(subject.name)
    return sorted(found)


def _short(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _sign_link(signature: Signature) -> EvidenceLink:
    # Undated on purpose: what a signature covers does not go stale.
    if signature.artifact is not None:
        return EvidenceLink(
            kind="artifact",
            ref=f"sha256:{signature.artifact.digest}",
            note=f"signature of {signature.name} (run:{signature.run_id}, root "
            f"sha256:{signature.root})",
        )
    return EvidenceLink(
        kind="run", ref=f"run:{signature.run_id}", note=f"ssdf sign {signature.name}"
    )


def _when(detail: RunDetail) -> dt.datetime:
    return detail.run.finished_at or detail.run.started_at


def _run_link(detail: RunDetail, note: str) -> EvidenceLink:
    return EvidenceLink(
        kind="run", ref=f"run:{detail.run.id}", note=note, observed_at=_when(detail)
    )


def _first_problem(detail: RunDetail) -> str:
    worst = max(detail.findings, key=lambda r: r.finding.severity, default=None)
    if worst is None:
        return f"exit code {detail.run.exit_code}"
    more = len(detail.findings) - 1
    return f"{worst.finding.rule_id}: {worst.finding.message}" + (
        f" (and {more} more)" if more else ""
    )


def _broken(facts: Facts, found: list[Check], *, watched: bool = True) -> list[str]:
    """Signed subjects that no longer match their newest signature: the newest verification
    since failed, or a watch alert about them is unresolved."""
    broken = [
        f"{c.signature.name} (run:{c.verify.run.id}: {_first_problem(c.verify)})"
        for c in found
        if c.failed and c.verify is not None
    ]
    names = {c.signature.name for c in found if not c.failed} if watched else set()
    alerted: set[str] = set()
    for record, name in unresolved_alerts(facts) if names else []:
        if name in names and name not in alerted:
            alerted.add(name)
            broken.append(
                f"{name} (watch run:{record.run_id}: {record.finding.rule_id}: "
                f"{record.finding.message})"
            )
    return broken


@control(
    "models-signed",
    title="Every model is signed",
    question="Is every model weight file under the configured model paths (and every model the "
    "newest scan found) covered by a recorded `ssdf sign` signature that still matches it?",
    task_ids=("PS.1.3", "PS.2.1"),
    item_ids=("PS.1.3.R4", "PS.2.1.R1"),
    motivation="A digital signature over every file of a model lets anyone who receives it "
    "check that the weights and configuration are exactly what was released, and by whom; an "
    "unsigned model can be swapped or altered unnoticed.",
    remediation="Sign each model folder with `ssdf sign MODEL --key KEY` (create a key with "
    "`ssdf keys generate NAME`); after a change, sign the new version with "
    "`ssdf sign MODEL --key KEY --parent OLD.sig`.",
    effort=Effort.MEDIUM,
)
def models_signed(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when every known model file lies in a signed subject whose signature still
    matches (no failed verification since)."""
    signed = newest_signatures(facts, SubjectKind.MODEL)
    if not signed:
        return this.result(Outcome.NOT_SATISFIED, NO_MODEL_SIGNATURE)
    found = checks(facts, signed)
    links = [_sign_link(s) for s in signed]
    broken = _broken(facts, found)
    if broken:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"{len(broken)} signed model(s) no longer match their signature (a verification "
            f"failed, or a watch alert is unresolved): {_short(broken, 3)}",
            links,
        )
    files = model_files(facts)
    uncovered = [f for f in files if not any(covers(s.name, f) for s in signed)]
    if uncovered:
        return this.result(
            Outcome.PARTIAL,
            f"{len(uncovered)} of {len(files)} model file(s) are not covered by a signature: "
            + _short(uncovered),
            links,
        )
    covered = f", covering all {len(files)} model file(s) found" if files else ""
    return this.result(
        Outcome.SATISFIED,
        f"{len(signed)} model(s) signed ({_short([s.name for s in signed], 3)}){covered}",
        links,
    )


@control(
    "signatures-verified",
    title="Signatures are verified regularly",
    question="Was every signed model and dataset verified with `ssdf verify` after its newest "
    "signature, successfully, within the configured maximum evidence age?",
    task_ids=("PS.1.3", "PS.1.2"),
    item_ids=("PS.1.3.R2", "PS.1.2.R1"),
    motivation="A signature protects only when it is checked: verifying it regularly detects "
    "weights, configuration or data that were modified after signing.",
    remediation="Run `ssdf verify PATH --key KEY.pub` for every signed model and dataset on a "
    "schedule (e.g. nightly in CI), so that a passing verification is always younger than "
    "checks.evidence.max_age_days; investigate and re-sign what fails.",
    effort=Effort.LOW,
)
def signatures_verified(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when each signature's newest later verification passed and is fresh."""
    signed = [s for s in newest_signatures(facts) if present(facts, s.name)]
    if not signed:
        return this.result(Outcome.NOT_SATISFIED, NO_SIGNATURE)
    found = checks(facts, signed)
    links = [
        _run_link(c.verify, f"ssdf verify {c.signature.name}: exit {c.verify.run.exit_code}")
        for c in found
        if c.verify is not None
    ]
    broken = _broken(facts, found, watched=False)
    if broken:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"{len(broken)} verification(s) failed: {_short(broken, 3)}",
            links,
        )
    never = [c.signature.name for c in found if c.verify is None]
    if never:
        return this.result(
            Outcome.PARTIAL if len(never) < len(found) else Outcome.NOT_SATISFIED,
            f"{len(never)} of {len(found)} signed model(s) or dataset(s) not verified since "
            f"their newest signature: {_short(never)}",
            links,
        )
    days = facts.loaded.config.checks.evidence.max_age_days
    old = [
        c.signature.name for c in found if c.verify is not None and facts.is_stale(_when(c.verify))
    ]
    if old and not facts.loaded.config.checks.unsafe_accept_stale_evidence:
        return this.result(
            Outcome.STALE,
            f"{len(old)} of {len(found)} signature(s) last verified more than {days} days ago: "
            + _short(old),
            links,
        )
    return this.result(
        Outcome.SATISFIED,
        f"all {len(found)} signature(s) verified successfully since signing, within {days} days",
        links,
    )


def _dataset_starts(facts: Facts) -> list[str] | None:
    """The configured dataset paths that exist, project-relative; ``None`` for the whole
    project (``.``)."""
    starts: set[str] = set()
    for pattern in facts.loaded.config.paths.datasets:
        if pattern == ".":
            return None
        for match in sorted(facts.root.glob(pattern)):
            if facts.inside(match):
                starts.add(facts.relative(match))
    return sorted(starts)


@control(
    "datasets-signed",
    title="Training data is signed",
    question="Does every configured dataset path hold a dataset signature (`ssdf sign --kind "
    "dataset`) that no later verification found broken?",
    task_ids=("PS.1.2",),
    item_ids=("PS.1.2.R1",),
    motivation="Training, testing, fine-tuning and aligning data that changes unnoticed "
    "poisons the model trained on it; a signature over the data is what its integrity is "
    "monitored against.",
    remediation="Sign each dataset with `ssdf sign DATASET --kind dataset --key KEY` and check "
    "it with `ssdf verify DATASET --kind dataset --key KEY.pub` before training.",
    effort=Effort.LOW,
)
def datasets_signed(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when each dataset path contains, or lies inside, a matching dataset signature."""
    signed = newest_signatures(facts, SubjectKind.DATASET)
    if not signed:
        return this.result(
            Outcome.NOT_SATISFIED,
            "no dataset signature is recorded; sign the training data with "
            "`ssdf sign DATASET --kind dataset --key KEY`",
        )
    found = checks(facts, signed)
    links = [_sign_link(s) for s in signed]
    broken = _broken(facts, found)
    if broken:
        return this.result(
            Outcome.NOT_SATISFIED,
            f"{len(broken)} signed dataset(s) no longer match their signature (a verification "
            f"failed, or a watch alert is unresolved): {_short(broken, 3)}",
            links,
        )
    starts = _dataset_starts(facts)
    uncovered = [
        start
        for start in starts or []
        if not any(covers(s.name, start) or covers(start, s.name) for s in signed)
    ]
    if uncovered:
        return this.result(
            Outcome.PARTIAL,
            f"{len(uncovered)} of {len(starts or [])} dataset path(s) hold no dataset signature: "
            + _short(uncovered),
            links,
        )
    return this.result(
        Outcome.SATISFIED,
        f"{len(signed)} dataset(s) signed ({_short([s.name for s in signed], 3)})",
        links,
    )


def _resolved_after(facts: Facts) -> dict[str, int]:
    """For each subject name, the id of its newest successful signature or passing
    verification: what settles every earlier alert about it."""
    settled: dict[str, int] = {}
    for name, history in signatures(facts).items():
        settled[name] = history[0].run_id
    for name, runs in _verifications(facts).items():
        passing = next((d.run.id for d in runs if d.run.exit_code == 0), 0)
        settled[name] = max(settled.get(name, 0), passing)
    return settled


def unresolved_alerts(facts: Facts) -> list[tuple[FindingRecord, str | None]]:
    """Integrity alerts (SSDF-INTEG-001) of recorded ``ssdf watch`` runs that are still open,
    each with the name of the watched model or dataset.

    An alert is settled by a later ``restored`` alert of the same file, by a later successful
    signature or passing verification of the watched model or dataset, or by a valid waiver.
    (Permission and private-key alerts are findings of their own; the gate sees them.)
    """
    waived = {
        w.target.removeprefix("finding:")
        for w in (facts.decisions.waivers if facts.decisions else [])
        if w.valid and w.target.startswith("finding:")
    }
    settled = _resolved_after(facts)
    open_alerts: dict[tuple[str | None, str | None], tuple[FindingRecord, str | None]] = {}
    for detail in sorted(facts.history.get(WATCH_COMMAND, []), key=lambda d: d.run.id):
        watched = next(
            (s.name for s in detail.subjects if s.kind in (SubjectKind.MODEL, SubjectKind.DATASET)),
            None,
        )
        for record in sorted(detail.findings, key=lambda r: r.id):
            where = record.finding.location
            if record.finding.rule_id == rules.RESTORED:
                for key in [k for k in open_alerts if k[0] == where.path]:
                    del open_alerts[key]
            elif (
                record.finding.rule_id == rules.MODIFIED
                and record.finding.fingerprint not in waived
            ):
                open_alerts[(where.path, where.address)] = (record, watched)
    return [
        (record, watched)
        for record, watched in open_alerts.values()
        if watched is None or settled.get(watched, 0) < record.run_id
    ]


def _failed_verifications(facts: Facts) -> list[RunDetail]:
    """Subjects whose newest verification failed, with no successful signature since."""
    newest_signature = {name: h[0].run_id for name, h in signatures(facts).items()}
    return [
        runs[0]
        for name, runs in sorted(_verifications(facts).items())
        if runs[0].run.exit_code != 0 and newest_signature.get(name, 0) < runs[0].run.id
    ]


@control(
    "integrity-monitored",
    title="Model and data integrity is monitored",
    question="Is the integrity of signed models and data monitored (a recorded `ssdf watch` or "
    "a passing `ssdf verify` within the configured maximum evidence age), with no integrity "
    "alert or failed verification left unresolved?",
    task_ids=("PS.1.3", "PS.1.2"),
    item_ids=("PS.1.3.R2", "PS.1.2.R1"),
    motivation="SP 800-218A asks that the integrity of model weights, configuration and "
    "training data be monitored continuously, so that a modification is noticed when it "
    "happens rather than when the model is next released.",
    remediation="Run `ssdf watch PATH --signature SIG --key KEY.pub` over each signed model and "
    "dataset (docs/watch.md) and `ssdf verify PATH --key KEY.pub` on a schedule; settle every "
    "alert (restore the files, or sign the new version with `ssdf sign`) or accept it with "
    "`ssdf waive finding:FINGERPRINT ...`.",
    effort=Effort.MEDIUM,
)
def integrity_monitored(this: Control, facts: Facts) -> ControlResult:
    """Satisfied by monitoring evidence with nothing unresolved; the evaluation marks it stale
    when all of it is older than the maximum age."""
    watches = facts.history.get(WATCH_COMMAND, [])
    verifies = [d for d in facts.history.get(VERIFY_COMMAND, []) if _finished(d)]
    if not watches and not verifies:
        return this.result(
            Outcome.NOT_SATISFIED,
            "no integrity monitoring is recorded; run `ssdf watch` over the signed models and "
            "data, or `ssdf verify` on a schedule",
        )
    alerts = unresolved_alerts(facts)
    failed = _failed_verifications(facts)
    if alerts or failed:
        problems = [
            f"{r.finding.rule_id} (run:{r.run_id}): {r.finding.message}" for r, _ in alerts
        ] + [f"run:{d.run.id}: {_first_problem(d)}" for d in failed]
        return this.result(
            Outcome.NOT_SATISFIED,
            f"{len(alerts)} unresolved integrity alert(s) and {len(failed)} failed "
            f"verification(s), e.g. {problems[0]}",
            [
                *(_run_link(d, "ssdf verify: failed") for d in failed),
                *(
                    EvidenceLink(kind="finding", ref=r.finding.fingerprint, note=r.finding.message)
                    for r, _ in alerts
                ),
            ],
        )
    links: list[EvidenceLink] = []
    said: list[str] = []
    if watches:
        watch = watches[0]
        links.append(_run_link(watch, f"ssdf watch: {len(watch.findings)} alert(s), settled"))
        said.append(f"the alerts of the newest watch (run:{watch.run.id}) are settled")
    passing = next((d for d in verifies if d.run.exit_code == 0), None)
    if passing is not None:
        names = ", ".join(s.name for s in passing.subjects) or "?"
        links.append(_run_link(passing, f"ssdf verify {names}: passed"))
        when = _when(passing).strftime("%Y-%m-%d")
        said.append(f"the newest passing verification (run:{passing.run.id}) ran on {when}")
    return this.result(Outcome.SATISFIED, "; ".join(said), links)


def signature_parent(data: bytes) -> dict[str, Any] | None:
    """The ``ssdf_ai.parent`` a signature file records, or ``None``.

    Raises:
        ValueError: The bytes are not an OMS signature bundle.
    """
    from ssdf_ai.errors import Error
    from ssdf_ai.provenance.dsse import parse_json

    try:
        bundle = parse_json(data, "signature", limit=MAX_SIGNATURE_READ)
        payload = base64.b64decode(bundle["dsseEnvelope"]["payload"], validate=True)
        statement = parse_json(payload, "statement", limit=MAX_SIGNATURE_READ)
        extension = statement["predicate"].get("ssdf_ai")
    except (Error, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a model signature: {exc}") from None
    parent = extension.get("parent") if isinstance(extension, dict) else None
    return parent if isinstance(parent, dict) else None


_UNREADABLE = object()


def _parent(facts: Facts, signature: Signature) -> object:
    """The parent a recorded signature names (``None`` without one), or :data:`_UNREADABLE`."""
    if signature.artifact is None:
        return _UNREADABLE
    data = facts.artifact_bytes(signature.artifact.digest, MAX_SIGNATURE_READ)
    if data is None:
        return _UNREADABLE
    try:
        return signature_parent(data)
    except ValueError:
        return _UNREADABLE


def _names_one_of(parent: object, roots: set[str], digests: set[str]) -> bool:
    """Whether a recorded parent is one of the older signatures (by root or file digest)."""
    if not isinstance(parent, dict):
        return False
    root, digest = parent.get("root"), parent.get("signature_sha256")
    return (isinstance(root, str) and root in roots) or (
        isinstance(digest, str) and digest in digests
    )


def _versions(history: list[Signature]) -> list[list[Signature]]:
    """Signatures grouped into versions (runs of the same root), newest version first."""
    versions: list[list[Signature]] = []
    for signature in history:
        if versions and versions[-1][0].root == signature.root:
            versions[-1].append(signature)
        else:
            versions.append([signature])
    return versions


@control(
    "signature-chain",
    title="Model changes are signed as a chain",
    question="When a model was signed again after it changed, does its newest version's "
    "signature name the previous version's signature as its parent?",
    task_ids=("PS.2.1",),
    item_ids=("PS.2.1.R2",),
    motivation="A signature per version, each naming its parent, lets an acquirer see exactly "
    "which files changed between two releases (`ssdf diff`) and that the change was signed by "
    "the same party, rather than receiving an unrelated new model.",
    remediation="Sign each new version with `ssdf sign MODEL --key KEY --parent OLD.sig` (the "
    "previous version's signature); compare versions with `ssdf diff OLD.sig NEW.sig --key "
    "KEY.pub`.",
    effort=Effort.LOW,
)
def signature_chain(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when every re-signed, changed model's newest version records its parent."""
    by_name = {
        name: history
        for name, history in signatures(facts).items()
        if history[0].kind is SubjectKind.MODEL
    }
    if not by_name:
        return this.result(Outcome.NOT_SATISFIED, NO_MODEL_SIGNATURE)
    changed = {name: _versions(h) for name, h in by_name.items() if len(_versions(h)) > 1}
    if not changed:
        return this.result(
            Outcome.SATISFIED,
            f"each of the {len(by_name)} signed model(s) has a single signed version: no change "
            "to chain yet",
            [_sign_link(h[0]) for h in by_name.values()],
        )
    chained: list[str] = []
    unchained: list[str] = []
    unreadable: list[str] = []
    links: list[EvidenceLink] = []
    for name, versions in sorted(changed.items()):
        older = [s for version in versions[1:] for s in version]
        roots = {s.root for s in older if s.root}
        digests = {s.artifact.digest for s in older if s.artifact is not None}
        links.append(_sign_link(versions[0][0]))
        parents = [_parent(facts, s) for s in versions[0]]
        if any(_names_one_of(p, roots, digests) for p in parents):
            chained.append(name)
        elif any(p is _UNREADABLE for p in parents):
            unreadable.append(name)
        else:
            unchained.append(name)
    if unchained:
        return this.result(
            Outcome.PARTIAL if chained else Outcome.NOT_SATISFIED,
            f"{len(unchained)} changed model(s) were signed again without naming the previous "
            f"version as parent: {_short(unchained)}",
            links,
        )
    if unreadable:
        return this.result(
            Outcome.UNKNOWN,
            f"the newest signature of {len(unreadable)} changed model(s) cannot be read from the "
            f"evidence store (missing, or over {MAX_SIGNATURE_READ >> 20} MiB): "
            + _short(unreadable),
            links,
        )
    return this.result(
        Outcome.SATISFIED,
        f"{len(chained)} changed model(s) signed as a chain to their previous version: "
        + _short(chained),
        links,
    )


def _archived(facts: Facts, artifact: ArtifactRecord | None) -> bool:
    if artifact is None or facts.blobs is None:
        return False
    try:
        return facts.blobs.path(artifact.digest).stat().st_size == artifact.size
    except (OSError, ValueError):
        return False


@control(
    "signatures-archived",
    title="Integrity information is kept with each release",
    question="Is the signature of every signed model and dataset kept in the evidence store, "
    "so that each release's integrity verification information is retained and exportable?",
    task_ids=("PS.3.1",),
    motivation="Integrity verification information must outlive the release: when a "
    "vulnerability is found later, the signed manifest shows exactly which files were "
    "released.",
    remediation="Sign with `ssdf sign PATH --key KEY` (it records the signature as evidence), "
    "and archive each release's evidence with `ssdf evidence export RELEASE.tar`.",
    effort=Effort.LOW,
)
def signatures_archived(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when every newest signature's file is present in the store's blobs."""
    signed = newest_signatures(facts)
    if not signed:
        return this.result(
            Outcome.NOT_SATISFIED,
            "no signature is recorded, so no integrity verification information is archived; "
            "sign with `ssdf sign PATH --key KEY`",
        )
    missing = [s.name for s in signed if not _archived(facts, s.artifact)]
    links = [_sign_link(s) for s in signed if s.artifact is not None]
    if missing:
        return this.result(
            Outcome.PARTIAL if len(missing) < len(signed) else Outcome.NOT_SATISFIED,
            f"the signature of {len(missing)} of {len(signed)} signed model(s) or dataset(s) is "
            f"not kept in the evidence store: {_short(missing)}",
            links,
        )
    return this.result(
        Outcome.SATISFIED,
        f"the signatures of all {len(signed)} signed model(s) and dataset(s) are kept in the "
        "evidence store",
        links,
    )


CONTROLS: tuple[Control, ...] = (
    models_signed,
    signatures_verified,
    datasets_signed,
    integrity_monitored,
    signature_chain,
    signatures_archived,
)
