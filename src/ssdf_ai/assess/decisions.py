"""Signed decisions: attestations, waivers and approvals; signed assessments for exchange.

People record what tools cannot check as signed statements, kept in the evidence store as DSSE
envelopes around in-toto Statement v1 (see docs/attestations.md):

- an **attestation** states that a task or item of the profile is done
  (:func:`create_attestation`; predicate type :data:`ATTESTATION_PREDICATE`);
- a **waiver** accepts the risk of a failing finding or control until it expires
  (:func:`create_waiver`; :data:`WAIVER_PREDICATE`);
- an **approval** is a second person's consent to a waiver (:func:`create_approval`;
  :data:`APPROVAL_PREDICATE`).

Creation checks what it can early (the signer holds the role and is a ``[[signers]]`` entry
whose key is the one given), but the authoritative check is :func:`load_decisions`, which
re-verifies every stored record against the configuration in force: signature, signer, role,
expiry and, for waivers, approval with separation of duties. Each record it refuses appears in
:attr:`Decisions.rejected` with the reason.

:func:`sign_assessment` and :func:`verify_assessment` sign and check an assessment's JSON that
one party hands to another (shared responsibility, PO.2.1.N1).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from ssdf_ai.assess.model import (
    CONTROL_ID_PATTERN,
    AttestationSummary,
    EvidenceLink,
    RejectedRecord,
    WaiverSummary,
)
from ssdf_ai.errors import InputError, VerificationError
from ssdf_ai.findings import Finding, Severity
from ssdf_ai.integrity.keys import PrivateKey, PublicKey, key_id, load_public_key
from ssdf_ai.provenance.dsse import (
    ENVELOPE_MEDIA_TYPE,
    MAX_ENVELOPE_BYTES,
    PAYLOAD_TYPE_INTOTO,
    canonical_json,
    dump_envelope,
    load_envelope,
    parse_json,
    parse_statement,
    sign_envelope,
    statement,
    unverified_payload,
    verify_envelope,
)

if TYPE_CHECKING:
    from ssdf_ai.config import LoadedConfig
    from ssdf_ai.config._model import Signer
    from ssdf_ai.store import ArtifactRecord, EvidenceStore

ATTESTATION_PREDICATE = "https://ssdf-ai.dev/attestation/v1"
WAIVER_PREDICATE = "https://ssdf-ai.dev/waiver/v1"
APPROVAL_PREDICATE = "https://ssdf-ai.dev/approval/v1"
ASSESSMENT_PAYLOAD_TYPE = "application/vnd.ssdf-ai.assessment+json"
SUBJECT_PREFIX = "sp800-218a:"

ATTESTATION_KIND = "attestation"
WAIVER_KIND = "waiver"
APPROVAL_KIND = "approval"
EVIDENCE_KIND = "attestation-evidence"

DEFAULT_ATTESTATION_EXPIRY = "90d"
DEFAULT_WAIVER_EXPIRY = "30d"
MAX_VALIDITY = dt.timedelta(days=730)
# A record signed on a machine whose clock runs a little ahead still counts.
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_TEXT = 10_000

DecisionKind = Literal["attestation", "waiver", "approval"]

_DURATION = re.compile(r"^([1-9][0-9]{0,3})([dwm])$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
_CONTROL = re.compile(CONTROL_ID_PATTERN)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30}


# -- time ----------------------------------------------------------------------------------


def utc_now() -> dt.datetime:
    """The current time in UTC, to the second (as recorded in predicates)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def format_time(moment: dt.datetime) -> str:
    """Write a time as ISO 8601 UTC to the second: ``2026-03-01T12:00:00Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d")


def _check_expiry(expires: dt.datetime, now: dt.datetime) -> dt.datetime:
    if expires.tzinfo is None:
        raise InputError("an expiry time needs a time zone", hint="give it in UTC, e.g. ...Z")
    if expires <= now:
        raise InputError(
            f"the expiry {format_time(expires)} is not in the future",
            hint="give a later date, or a duration such as 90d, 12w or 6m",
        )
    if expires - now > MAX_VALIDITY:
        raise InputError(
            f"the expiry {format_time(expires)} is more than 2 years away",
            hint="decisions must be reviewed at least every 2 years; give 730d or less",
        )
    return expires.astimezone(dt.UTC).replace(microsecond=0)


def parse_expiry(text: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """Turn ``--expires`` into a time: ``90d``, ``12w``, ``6m`` (30-day months) or a date.

    A date (``2026-12-31``) means the end of that day in UTC; a date and time
    (``2026-12-31T12:00:00Z``) is taken as given, in UTC when it has no offset.

    Args:
        text: The value.
        now: The current time (UTC); defaults to the clock.

    Returns:
        The expiry, in UTC, to the second.

    Raises:
        InputError: If it is malformed, not in the future, or more than 2 years away.
    """
    now = now or utc_now()
    value = text.strip()
    match = _DURATION.match(value.lower())
    if match:
        expires = now + dt.timedelta(days=int(match[1]) * _UNIT_DAYS[match[2]])
        return _check_expiry(expires, now)
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            expires = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)
        else:
            expires = dt.datetime.fromisoformat(value)
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
    except ValueError:
        raise InputError(
            f"cannot read the expiry {text!r}",
            hint="give a duration such as 90d, 12w or 6m (30-day months), or a date 2026-12-31",
        ) from None
    return _check_expiry(expires, now)


# -- predicates ----------------------------------------------------------------------------


class _Predicate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    by: StrictStr = Field(min_length=1, max_length=200)
    role: StrictStr = Field(min_length=1, max_length=200)
    created: AwareDatetime


class _EvidenceRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: StrictStr = Field(min_length=1, max_length=4096)
    sha256: StrictStr = Field(pattern=r"^[0-9a-f]{64}$")


class _AttestationPredicate(_Predicate):
    subject_id: StrictStr = Field(min_length=1, max_length=64)
    task_id: StrictStr = Field(min_length=1, max_length=64)
    statement: StrictStr = Field(min_length=1, max_length=MAX_TEXT)
    expires: AwareDatetime
    evidence: tuple[_EvidenceRef, ...] = ()


class _WaiverPredicate(_Predicate):
    target: StrictStr = Field(min_length=1, max_length=200)
    justification: StrictStr = Field(min_length=1, max_length=MAX_TEXT)
    expires: AwareDatetime
    rule_id: StrictStr | None = Field(default=None, pattern=r"^SSDF-[A-Z]+-[0-9]{3}$")
    severity: Severity | None = None


class _ApprovalPredicate(_Predicate):
    waiver: StrictStr = Field(pattern=_DIGEST.pattern)
    target: StrictStr = Field(min_length=1, max_length=200)
    expires: AwareDatetime | None = None


_PREDICATES: dict[DecisionKind, tuple[str, type[_Predicate]]] = {
    "attestation": (ATTESTATION_PREDICATE, _AttestationPredicate),
    "waiver": (WAIVER_PREDICATE, _WaiverPredicate),
    "approval": (APPROVAL_PREDICATE, _ApprovalPredicate),
}


# -- results -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DecisionResult:
    """A decision just signed and stored.

    Attributes:
        kind: attestation, waiver or approval.
        digest: ``sha256:…`` of the stored envelope (name it to approve a waiver).
        subject: The task or item id attested, or the waiver's target.
        by: Who signed it.
        role: The role they signed in.
        created: When it was signed.
        expires: When it stops counting (``None`` for an approval without its own expiry).
        run_id: The evidence-store run that recorded it.
        evidence: Attached files as ``(project-relative name, sha256)``.
        waiver: For an approval, the digest of the waiver it approves.
        needs_approval: For a waiver, whether it needs an approver to take effect.
        approver_roles: The roles whose holders may approve (from the configuration).
    """

    kind: DecisionKind
    digest: str
    subject: str
    by: str
    role: str
    created: dt.datetime
    expires: dt.datetime | None
    run_id: int
    evidence: tuple[tuple[str, str], ...] = ()
    waiver: str | None = None
    needs_approval: bool | None = None
    approver_roles: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Decisions:
    """Every stored attestation and waiver after verification, and what was refused.

    Attributes:
        attestations: Verified attestations (``expired`` set where they have lapsed).
        waivers: Verified waivers, valid or not (with the reason when not).
        rejected: Records refused, each with a specific reason.
    """

    attestations: list[AttestationSummary] = dataclasses.field(default_factory=list)
    waivers: list[WaiverSummary] = dataclasses.field(default_factory=list)
    rejected: list[RejectedRecord] = dataclasses.field(default_factory=list)

    def attestations_for(self, task_id: str) -> list[AttestationSummary]:
        """The verified attestations that count for a task (expired ones included)."""
        return [a for a in self.attestations if a.task_id == task_id]

    def valid_waiver(self, target: str) -> WaiverSummary | None:
        """The newest valid waiver of a target (``finding:…`` or ``control:…``), if any."""
        valid = [w for w in self.waivers if w.target == target and w.valid]
        return max(valid, key=lambda w: w.created, default=None)


class _RejectedError(Exception):
    """A stored record refused, with the reason (internal to :func:`load_decisions`)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class _Verified:
    digest: str
    predicate: Any
    subjects: tuple[dict[str, Any], ...]
    raw_predicate: dict[str, Any]


# -- configuration checks ------------------------------------------------------------------


def _signer_entry(loaded: LoadedConfig, name: str) -> Signer | None:
    return next((s for s in loaded.config.signers if s.name == name), None)


def _role_problem(loaded: LoadedConfig, person: str, role: str) -> str | None:
    """Why ``person`` may not sign in ``role``, or ``None`` when they may."""
    entry = next((r for r in loaded.config.roles if r.name == role), None)
    if entry is None:
        return f"role {role!r} is not defined in the configuration's [[roles]]"
    if person not in entry.holders:
        return f"signer {person!r} does not hold role {role!r}"
    return None


def _snippet(name: str) -> str:
    return f'[[signers]]\nname = "{name}"\npublic_key = "keys/{name}.pub"'


def check_signer(loaded: LoadedConfig, by: str, role: str, private_key: PrivateKey) -> None:
    """Check before signing that ``by`` may sign in ``role`` with ``private_key``.

    ``by`` must hold ``role`` in ``[[roles]]``, and a ``[[signers]]`` entry named ``by``
    must hold the public key of ``private_key``. :func:`load_decisions` checks the same
    again; this only gives the error before anything is stored.

    Args:
        loaded: The project's configuration.
        by: The person signing.
        role: The role they sign in.
        private_key: Their private key.

    Raises:
        InputError: Naming what to add to ssdf.toml.
    """
    problem = _role_problem(loaded, by, role)
    if problem is not None:
        roles = ", ".join(repr(r.name) for r in loaded.config.roles) or "none defined"
        raise InputError(
            problem,
            where=loaded.path,
            hint=f"add {by!r} to the holders of the [[roles]] entry named {role!r} in ssdf.toml "
            f"(roles: {roles})",
        )
    entry = _signer_entry(loaded, by)
    if entry is None:
        raise InputError(
            f"no [[signers]] entry for {by!r}: nobody could verify the signature",
            where=loaded.path,
            hint=f"add to ssdf.toml (with the public key of your key pair):\n{_snippet(by)}",
        )
    public = load_public_key(loaded.root / entry.public_key)
    if key_id(public) != key_id(private_key.public_key()):
        raise InputError(
            f"the key given is not the key of {by!r}: [[signers]] names {entry.public_key}",
            where=loaded.path,
            hint=f"sign with {by!r}'s own private key, or put the matching public key in "
            "the [[signers]] entry",
        )


def _trusted_keys(loaded: LoadedConfig) -> tuple[dict[str, PublicKey], dict[str, str]]:
    """Load every ``[[signers]]`` key; a key that cannot be read is a problem, not trust."""
    keys: dict[str, PublicKey] = {}
    problems: dict[str, str] = {}
    for entry in loaded.config.signers:
        try:
            keys[entry.name] = load_public_key(loaded.root / entry.public_key)
        except InputError as exc:
            problems[entry.name] = f"the public key of {entry.name!r} cannot be used: {exc}"
    return keys, problems


def _approval_needed(
    loaded: LoadedConfig,
    target: str,
    rule_id: str | None,
    severity: Severity | None,
    current: Finding | None = None,
) -> bool:
    """Whether a waiver of ``target`` needs an approver (fail closed when unsure)."""
    if target.startswith("control:"):
        # A failing control is a policy decision, never a single finding's risk call.
        return True
    required = set(loaded.config.checks.require_approval_for)
    rules = {rule_id} if rule_id else set()
    severities = {severity} if severity else set()
    if current is not None:
        rules.add(current.rule_id)
        severities.add(current.severity)
    if not rules and not severities:
        return True
    return bool(required & {str(s.value) for s in severities} or required & rules)


def _approver_hint(loaded: LoadedConfig) -> str:
    roles = loaded.config.checks.approver_roles
    if not roles:
        return "needs approval, but checks.approver_roles is empty, so nobody may approve it"
    names = " or ".join(repr(r) for r in roles)
    return f"needs approval by a holder of {names} (checks.approver_roles)"


# -- creating ------------------------------------------------------------------------------


def _task_of(subject_id: str) -> tuple[str, str]:
    """Return the canonical id and its task id; raise InputError for anything else."""
    from ssdf_ai.profile import Item, Task, load_catalog

    catalog = load_catalog()
    node = catalog.get(subject_id)
    if isinstance(node, Task):
        return node.id, node.id
    if isinstance(node, Item):
        parent = catalog.parent_of(node.id)
        if parent is not None:
            return node.id, parent.id
    raise InputError(
        f"{node.id} is a group or practice; attest a task or an item",
        hint=f"`ssdf profile show {node.id}` lists its tasks (such as PO.2.1) and items",
    )


def _text(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise InputError(f"the {what} is empty", hint=f"say what the {what} is")
    if len(text) > MAX_TEXT:
        raise InputError(f"the {what} is {len(text)} characters, over {MAX_TEXT}")
    return text


def _evidence_files(root: Path, files: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """Resolve evidence files to ``(path, project-relative name)``; they must be in the project."""
    base = root.resolve()
    found: dict[str, Path] = {}
    for file in files:
        path = Path(file)
        if not path.is_file():
            raise InputError(f"no evidence file at {path}", where=path)
        resolved = path.resolve()
        try:
            name = resolved.relative_to(base).as_posix()
        except ValueError:
            raise InputError(
                f"the evidence file {path} is outside the project {root}",
                where=path,
                hint="evidence is named by its path in the project: copy it into the project",
            ) from None
        found.setdefault(name, resolved)
    return [(path, name) for name, path in found.items()]


def _subject_digest(predicate: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(predicate))).hexdigest()


def _store_envelope(
    run: Any,
    *,
    kind: DecisionKind,
    subjects: list[dict[str, Any]],
    predicate: dict[str, Any],
    private_key: PrivateKey,
    name: str,
) -> str:
    predicate_type = _PREDICATES[kind][0]
    payload = canonical_json(statement(subjects, predicate_type, predicate))
    envelope = sign_envelope(payload, PAYLOAD_TYPE_INTOTO, private_key)
    artifact = run.add_artifact(
        dump_envelope(envelope), kind=kind, media_type=ENVELOPE_MEDIA_TYPE, name=name
    )
    return f"sha256:{artifact.digest}"


def create_attestation(
    store: EvidenceStore,
    loaded: LoadedConfig,
    *,
    subject_id: str,
    statement_text: str,
    by: str,
    role: str,
    private_key: PrivateKey,
    expires: dt.datetime,
    evidence: Sequence[str | Path] = (),
    now: dt.datetime | None = None,
    argv: list[str] | None = None,
) -> DecisionResult:
    """Sign an attestation of a task or item and store it (with its evidence) as one run.

    Args:
        store: The project's evidence store.
        loaded: The project's configuration.
        subject_id: A task (``PO.2.2``) or item (``PO.2.2.R1``) id of the profile.
        statement_text: What the signer states.
        by: Who signs.
        role: The role they sign in.
        private_key: Their private key.
        expires: When the attestation stops counting (at most 2 years away).
        evidence: Files in the project to attach; each is stored as an
            ``attestation-evidence`` artifact and named in the statement by its digest.
        now: The current time; defaults to the clock.
        argv: The command line to record with the run.

    Returns:
        What was stored.

    Raises:
        InputError: If the id is not a task or item, the statement is empty, the expiry is out
            of range, an evidence file is missing or outside the project, or the signer may
            not sign (see :func:`check_signer`).
    """
    now = (now or utc_now()).replace(microsecond=0)
    canonical, task_id = _task_of(subject_id)
    text = _text(statement_text, "statement")
    expires = _check_expiry(expires, now)
    check_signer(loaded, by, role, private_key)
    files = _evidence_files(loaded.root, evidence)
    argv = argv or ["attest", canonical, "--by", by, "--role", role]
    with store.run("attest", argv) as run:
        attached: list[tuple[str, str]] = []
        for path, name in files:
            artifact = run.add_artifact_file(path, kind=EVIDENCE_KIND)
            attached.append((name, artifact.digest))
        predicate: dict[str, Any] = {
            "subject_id": canonical,
            "task_id": task_id,
            "statement": text,
            "by": by,
            "role": role,
            "created": format_time(now),
            "expires": format_time(expires),
            "evidence": [{"name": n, "sha256": d} for n, d in attached],
        }
        subjects = [
            {"name": SUBJECT_PREFIX + canonical, "digest": {"sha256": _subject_digest(predicate)}},
            *({"name": n, "digest": {"sha256": d}} for n, d in attached),
        ]
        digest = _store_envelope(
            run,
            kind="attestation",
            subjects=subjects,
            predicate=predicate,
            private_key=private_key,
            name=f"attestation-{canonical}.dsse.json",
        )
    return DecisionResult(
        kind="attestation",
        digest=digest,
        subject=canonical,
        by=by,
        role=role,
        created=now,
        expires=expires,
        run_id=run.id,
        evidence=tuple(attached),
    )


def parse_target(target: str) -> str:
    """Check a waiver target: ``finding:<16 hex fingerprint>`` or ``control:<control id>``.

    Returns:
        The target, with the fingerprint in lower case.

    Raises:
        InputError: If it is neither.
    """
    kind, _, ident = target.strip().partition(":")
    if kind == "finding" and _FINGERPRINT.match(ident.lower()):
        return f"finding:{ident.lower()}"
    if kind == "control" and _CONTROL.match(ident):
        return f"control:{ident}"
    raise InputError(
        f"not a waiver target: {target!r}",
        hint="give finding:<fingerprint> (16 hex digits, from the findings list) or "
        "control:<control id> (such as control:models-scanned)",
    )


def _find_finding(store: EvidenceStore, fingerprint: str) -> Finding | None:
    """The newest stored finding with this fingerprint."""
    return next((r.finding for r in store.findings() if r.finding.fingerprint == fingerprint), None)


def create_waiver(
    store: EvidenceStore,
    loaded: LoadedConfig,
    *,
    target: str,
    justification: str,
    by: str,
    role: str,
    private_key: PrivateKey,
    expires: dt.datetime,
    now: dt.datetime | None = None,
    argv: list[str] | None = None,
) -> DecisionResult:
    """Sign a waiver of a finding or a control and store it as one run.

    A finding's rule id and severity are looked up in the store and recorded in the waiver,
    so that whether it needs approval does not depend on the finding still being there.

    Args:
        store: The project's evidence store.
        loaded: The project's configuration.
        target: ``finding:<fingerprint>`` or ``control:<control id>``.
        justification: Why the risk is accepted.
        by: Who signs.
        role: The role they sign in.
        private_key: Their private key.
        expires: When the waiver lapses (at most 2 years away).
        now: The current time; defaults to the clock.
        argv: The command line to record with the run.

    Returns:
        What was stored, with whether it needs approval.

    Raises:
        InputError: If the target is malformed or names a finding the store does not hold,
            the justification is empty, the expiry is out of range, or the signer may not sign.
    """
    now = (now or utc_now()).replace(microsecond=0)
    target = parse_target(target)
    text = _text(justification, "justification")
    expires = _check_expiry(expires, now)
    check_signer(loaded, by, role, private_key)
    predicate: dict[str, Any] = {
        "target": target,
        "justification": text,
        "by": by,
        "role": role,
        "created": format_time(now),
        "expires": format_time(expires),
    }
    finding: Finding | None = None
    if target.startswith("finding:"):
        fingerprint = target.removeprefix("finding:")
        finding = _find_finding(store, fingerprint)
        if finding is None:
            raise InputError(
                f"no finding with fingerprint {fingerprint} in the evidence store",
                hint="waive a finding that was recorded: list them with "
                "`ssdf evidence list --kind findings`",
            )
        predicate["rule_id"] = finding.rule_id
        predicate["severity"] = finding.severity.value
    argv = argv or ["waive", target, "--by", by, "--role", role]
    with store.run("waive", argv) as run:
        subjects = [{"name": target, "digest": {"sha256": _subject_digest(predicate)}}]
        digest = _store_envelope(
            run,
            kind="waiver",
            subjects=subjects,
            predicate=predicate,
            private_key=private_key,
            name="waiver-" + target.replace(":", "-") + ".dsse.json",
        )
    needs = _approval_needed(
        loaded,
        target,
        finding.rule_id if finding else None,
        finding.severity if finding else None,
    )
    return DecisionResult(
        kind="waiver",
        digest=digest,
        subject=target,
        by=by,
        role=role,
        created=now,
        expires=expires,
        run_id=run.id,
        needs_approval=needs,
        approver_roles=tuple(loaded.config.checks.approver_roles),
    )


def resolve_waiver(store: EvidenceStore, ref: str) -> str:
    """Resolve a waiver's envelope digest or unique prefix (8+ hex digits) to its digest.

    Returns:
        The full hex digest (without ``sha256:``).

    Raises:
        InputError: If the prefix is malformed, matches nothing, is ambiguous, or names an
            artifact that is not a waiver.
    """
    digest = store.resolve_digest(ref)
    if not store.artifacts(kind=WAIVER_KIND, digest=digest):
        raise InputError(
            f"sha256:{digest[:16]}… is not a waiver",
            hint="list waivers with `ssdf evidence list --kind artifacts`",
        )
    return digest


def create_approval(
    store: EvidenceStore,
    loaded: LoadedConfig,
    *,
    waiver: str,
    by: str,
    role: str,
    private_key: PrivateKey,
    expires: dt.datetime | None = None,
    now: dt.datetime | None = None,
    argv: list[str] | None = None,
) -> DecisionResult:
    """Sign an approval of a stored waiver and store it as one run.

    The waiver is verified first; the approver must hold one of ``checks.approver_roles``
    and must not be the waiver's author (separation of duties).

    Args:
        store: The project's evidence store.
        loaded: The project's configuration.
        waiver: The waiver's envelope digest or a unique prefix of at least 8 hex digits.
        by: Who approves.
        role: The role they approve in.
        private_key: Their private key.
        expires: When the approval lapses; ``None`` to follow the waiver's own expiry.
        now: The current time; defaults to the clock.
        argv: The command line to record with the run.

    Returns:
        What was stored.

    Raises:
        InputError: If the waiver cannot be found, the role may not approve, the approver
            wrote the waiver, the expiry is out of range, or the signer may not sign.
        VerificationError: If the waiver itself does not verify.
    """
    now = (now or utc_now()).replace(microsecond=0)
    digest = resolve_waiver(store, waiver)
    keys, key_problems = _trusted_keys(loaded)
    record = store.artifacts(kind=WAIVER_KIND, digest=digest, limit=1)[0]
    try:
        data = _read(store, record)
        verified = _verify(data, f"sha256:{digest}", "waiver", loaded, keys, key_problems)
        waived = _waiver(verified, now)
    except _RejectedError as exc:
        raise VerificationError(
            f"the waiver sha256:{digest[:16]}… does not verify: {exc.reason}",
            hint="a waiver must verify before it can be approved",
        ) from None
    if now >= waived.expires:
        raise InputError(
            f"the waiver sha256:{digest[:16]}… expired on {_day(waived.expires)}",
            hint="a new waiver is needed; approve that one instead",
        )
    approvers = loaded.config.checks.approver_roles
    if role not in approvers:
        raise InputError(
            f"role {role!r} may not approve waivers: checks.approver_roles = {list(approvers)}",
            where=loaded.path,
            hint="approve in one of those roles, or add the role to checks.approver_roles",
        )
    if by == waived.by:
        raise InputError(
            f"{by!r} wrote this waiver and cannot approve it (separation of duties)",
            hint="ask another holder of an approver role to approve it",
        )
    if expires is not None:
        expires = _check_expiry(expires, now)
    check_signer(loaded, by, role, private_key)
    predicate: dict[str, Any] = {
        "waiver": f"sha256:{digest}",
        "target": waived.target,
        "by": by,
        "role": role,
        "created": format_time(now),
    }
    if expires is not None:
        predicate["expires"] = format_time(expires)
    argv = argv or ["approve", f"sha256:{digest}", "--by", by, "--role", role]
    with store.run("approve", argv) as run:
        subjects = [{"name": f"waiver:{waived.target}", "digest": {"sha256": digest}}]
        stored = _store_envelope(
            run,
            kind="approval",
            subjects=subjects,
            predicate=predicate,
            private_key=private_key,
            name=f"approval-{digest[:16]}.dsse.json",
        )
    return DecisionResult(
        kind="approval",
        digest=stored,
        subject=waived.target,
        by=by,
        role=role,
        created=now,
        expires=expires,
        run_id=run.id,
        waiver=f"sha256:{digest}",
    )


# -- loading and verifying -----------------------------------------------------------------


def _peek_author(envelope: Mapping[str, Any]) -> str | None:
    """The ``by`` an envelope claims, read before verification (for messages only)."""
    try:
        value = parse_json(unverified_payload(envelope), "payload")
    except VerificationError:
        return None
    predicate = value.get("predicate") if isinstance(value, dict) else None
    author = predicate.get("by") if isinstance(predicate, dict) else None
    return author if isinstance(author, str) and len(author) <= 200 else None


def _verify(
    data: bytes,
    digest: str,
    kind: DecisionKind,
    loaded: LoadedConfig,
    keys: Mapping[str, PublicKey],
    key_problems: Mapping[str, str],
) -> _Verified:
    """Verify one stored record up to its role; raise :class:`_RejectedError` with the reason."""
    try:
        envelope = load_envelope(data)
    except VerificationError as exc:
        raise _RejectedError(exc.message) from None
    payload_type = envelope["payloadType"]
    if payload_type != PAYLOAD_TYPE_INTOTO:
        raise _RejectedError(
            f"payloadType is {payload_type[:80]!r}, expected {PAYLOAD_TYPE_INTOTO!r}"
        )
    author = _peek_author(envelope)
    if author is not None and _signer_entry(loaded, author) is None:
        raise _RejectedError(f"no [[signers]] entry for {author!r}")
    if author is not None and author in key_problems:
        raise _RejectedError(key_problems[author])
    try:
        verified = verify_envelope(envelope, keys)
    except VerificationError as exc:
        if author is not None and author in keys:
            raise _RejectedError(f"signature does not verify with the key of {author!r}") from None
        raise _RejectedError(exc.message) from None
    predicate_type, model = _PREDICATES[kind]
    try:
        body = parse_statement(verified.payload, predicate_type=predicate_type)
    except VerificationError as exc:
        raise _RejectedError(exc.message) from None
    raw = body.get("predicate", {})
    try:
        predicate = model.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "predicate"
        raise _RejectedError(f"malformed {kind} predicate: {where}: {problem['msg']}") from None
    if predicate.by not in verified.signers:
        signers = ", ".join(repr(s) for s in verified.signers)
        raise _RejectedError(
            f"signed by {signers}, not by {predicate.by!r} whom it names as author"
        )
    problem_text = _role_problem(loaded, predicate.by, predicate.role)
    if problem_text is not None:
        raise _RejectedError(problem_text)
    return _Verified(
        digest=digest,
        predicate=predicate,
        subjects=tuple(body["subject"]),
        raw_predicate=raw,
    )


def _check_times(created: dt.datetime, expires: dt.datetime | None, now: dt.datetime) -> None:
    if created > now + CLOCK_SKEW:
        raise _RejectedError(f"created in the future ({format_time(created)})")
    if expires is None:
        return
    if expires <= created:
        raise _RejectedError("expires before it was created")
    if expires - created > MAX_VALIDITY + dt.timedelta(days=1):
        raise _RejectedError(f"valid for more than 2 years (until {_day(expires)})")


def _check_subject(verified: _Verified, name: str) -> None:
    """The first subject must name the decision and carry the digest of its predicate."""
    first = verified.subjects[0]
    if first.get("name") != name:
        shown = str(first.get("name"))[:80]
        raise _RejectedError(f"the statement's subject is {shown!r}, not {name!r}")
    if first["digest"].get("sha256") != _subject_digest(verified.raw_predicate):
        raise _RejectedError("the statement's subject digest does not match its predicate")


def _attestation(store: EvidenceStore, verified: _Verified, now: dt.datetime) -> AttestationSummary:
    predicate: _AttestationPredicate = verified.predicate
    _check_times(predicate.created, predicate.expires, now)
    try:
        canonical, task_id = _task_of(predicate.subject_id)
    except InputError:
        shown = predicate.subject_id[:64]
        raise _RejectedError(f"{shown!r} is not a task or item of the profile") from None
    if task_id != predicate.task_id or canonical != predicate.subject_id:
        raise _RejectedError(f"task_id {predicate.task_id!r} is not the task of {canonical}")
    _check_subject(verified, SUBJECT_PREFIX + canonical)
    claimed = {(e.name, e.sha256) for e in predicate.evidence}
    listed = {(str(s.get("name")), str(s["digest"].get("sha256"))) for s in verified.subjects[1:]}
    if claimed != listed:
        raise _RejectedError("the statement's evidence subjects do not match its predicate")
    links = []
    for ref in predicate.evidence:
        present = bool(store.artifacts(digest=ref.sha256, limit=1))
        note = ref.name if present else f"{ref.name} (not in the evidence store)"
        links.append(EvidenceLink(kind="artifact", ref=f"sha256:{ref.sha256}", note=note))
    return AttestationSummary(
        digest=verified.digest,
        subject_id=canonical,
        task_id=task_id,
        statement=predicate.statement,
        by=predicate.by,
        role=predicate.role,
        created=predicate.created,
        expires=predicate.expires,
        evidence=tuple(links),
        expired=now >= predicate.expires,
    )


def _records(store: EvidenceStore, kind: str) -> list[ArtifactRecord]:
    """The stored artifacts of a kind, one per digest, oldest first."""
    seen: dict[str, ArtifactRecord] = {}
    for record in sorted(store.artifacts(kind=kind), key=lambda r: r.id):
        seen.setdefault(record.digest, record)
    return list(seen.values())


def _waiver(verified: _Verified, now: dt.datetime) -> _WaiverPredicate:
    """Check a verified waiver's times, target and subject (not its expiry or approvals)."""
    waived: _WaiverPredicate = verified.predicate
    _check_times(waived.created, waived.expires, now)
    if parse_target_or_none(waived.target) != waived.target:
        raise _RejectedError(f"{waived.target[:80]!r} is not a waiver target")
    _check_subject(verified, waived.target)
    return waived


def _read(store: EvidenceStore, record: ArtifactRecord) -> bytes:
    # Refuse oversized records before reading them into memory.
    if record.size > MAX_ENVELOPE_BYTES:
        raise _RejectedError(
            f"the stored envelope is {record.size} bytes, over the limit of {MAX_ENVELOPE_BYTES}"
        )
    try:
        return store.read_blob(record.digest)
    except VerificationError as exc:
        raise _RejectedError(f"the stored envelope cannot be read: {exc.message}") from None


def load_decisions(
    store: EvidenceStore,
    loaded: LoadedConfig,
    *,
    now: dt.datetime,
    findings: Mapping[str, Finding] | None = None,
) -> Decisions:
    """Verify every stored attestation, waiver and approval against the configuration.

    A record counts only if its DSSE signature verifies with the ``[[signers]]`` key of the
    person it names as author, that person holds the role it names, and its statement and
    predicate are well formed. Then:

    - an attestation past its expiry is returned with ``expired=True`` (the task is stale);
    - a waiver past its expiry is returned with ``valid=False``;
    - a waiver needs approval when it targets a control, or a finding whose severity or rule
      id is in ``checks.require_approval_for``; it is valid only with at least one approval
      that verifies, has not expired, names its digest and target, is signed in a role of
      ``checks.approver_roles``, and is by someone other than the waiver's author.

    Args:
        store: The project's evidence store.
        loaded: The configuration in force.
        now: The time to judge expiry at (timezone-aware).
        findings: Current findings by fingerprint; when given, a waived finding's current
            severity and rule also decide whether approval is needed.

    Returns:
        The verified attestations and waivers, and every refused record with its reason.
    """
    keys, key_problems = _trusted_keys(loaded)
    result = Decisions()
    for record in _records(store, ATTESTATION_KIND):
        digest = f"sha256:{record.digest}"
        try:
            verified = _verify(
                _read(store, record), digest, "attestation", loaded, keys, key_problems
            )
            result.attestations.append(_attestation(store, verified, now))
        except _RejectedError as exc:
            result.rejected.append(
                RejectedRecord(digest=digest, kind="attestation", reason=exc.reason)
            )

    waivers: dict[str, _WaiverPredicate] = {}
    for record in _records(store, WAIVER_KIND):
        digest = f"sha256:{record.digest}"
        try:
            verified = _verify(_read(store, record), digest, "waiver", loaded, keys, key_problems)
            waivers[digest] = _waiver(verified, now)
        except _RejectedError as exc:
            result.rejected.append(RejectedRecord(digest=digest, kind="waiver", reason=exc.reason))
    rejected_waivers = {r.digest for r in result.rejected if r.kind == "waiver"}

    approvals: dict[str, list[str]] = {}
    approver_roles = loaded.config.checks.approver_roles
    for record in _records(store, APPROVAL_KIND):
        digest = f"sha256:{record.digest}"
        try:
            verified = _verify(_read(store, record), digest, "approval", loaded, keys, key_problems)
            approval: _ApprovalPredicate = verified.predicate
            _check_times(approval.created, approval.expires, now)
            if verified.subjects[0]["digest"].get("sha256") != approval.waiver.removeprefix(
                "sha256:"
            ):
                raise _RejectedError("the statement's subject is not the waiver it approves")
            waived_by = waivers.get(approval.waiver)
            if waived_by is None:
                if approval.waiver in rejected_waivers:
                    raise _RejectedError(f"approves {approval.waiver[:23]}…, a rejected waiver")
                raise _RejectedError(
                    f"approves {approval.waiver[:23]}…, which is not a stored waiver"
                )
            if approval.target != waived_by.target:
                raise _RejectedError(
                    f"names target {approval.target!r} but the waiver is for {waived_by.target!r}"
                )
            if approval.expires is not None and now >= approval.expires:
                raise _RejectedError(f"expired on {_day(approval.expires)}")
            if approval.role not in approver_roles:
                raise _RejectedError(
                    f"role {approval.role!r} may not approve: "
                    f"checks.approver_roles = {list(approver_roles)}"
                )
            if approval.by == waived_by.by:
                raise _RejectedError("approver is the waiver's author (separation of duties)")
            names = approvals.setdefault(approval.waiver, [])
            if approval.by not in names:
                names.append(approval.by)
        except _RejectedError as exc:
            result.rejected.append(
                RejectedRecord(digest=digest, kind="approval", reason=exc.reason)
            )

    for digest, waived in waivers.items():
        current = None
        if findings is not None and waived.target.startswith("finding:"):
            current = findings.get(waived.target.removeprefix("finding:"))
        needs = _approval_needed(loaded, waived.target, waived.rule_id, waived.severity, current)
        approved_by = tuple(approvals.get(digest, ()))
        reason: str | None = None
        if now >= waived.expires:
            reason = f"expired on {_day(waived.expires)}"
        elif needs and not approved_by:
            reason = _approver_hint(loaded)
        result.waivers.append(
            WaiverSummary(
                digest=digest,
                target=waived.target,
                justification=waived.justification,
                by=waived.by,
                role=waived.role,
                created=waived.created,
                expires=waived.expires,
                needs_approval=needs,
                approved_by=approved_by,
                valid=reason is None,
                reason=reason,
            )
        )
    return result


def parse_target_or_none(target: str) -> str | None:
    """:func:`parse_target`, returning ``None`` instead of raising."""
    try:
        return parse_target(target)
    except InputError:
        return None


# -- exchanging assessments ----------------------------------------------------------------


def sign_assessment(assessment_json: bytes, private_key: PrivateKey) -> dict[str, Any]:
    """Sign an assessment's JSON for another party as a DSSE envelope.

    Args:
        assessment_json: The assessment as written by ``ssdf assess --format json``.
        private_key: The signing party's key.

    Returns:
        The DSSE envelope.

    Raises:
        InputError: If the bytes are not a JSON object.
    """
    try:
        value = parse_json(assessment_json, "assessment")
    except VerificationError as exc:
        raise InputError(exc.message, hint="give the JSON of `ssdf assess --format json`") from None
    if not isinstance(value, dict):
        raise InputError("the assessment is not a JSON object")
    return sign_envelope(assessment_json, ASSESSMENT_PAYLOAD_TYPE, private_key)


def verify_assessment(
    envelope: Mapping[str, Any], loaded: LoadedConfig, party: str
) -> tuple[dict[str, Any], str]:
    """Verify another party's signed assessment.

    Only the key of the ``[[signers]]`` entry named ``party`` is trusted: an assessment
    signed by anyone else, even another trusted signer, is refused.

    Args:
        envelope: The DSSE envelope.
        loaded: The configuration naming the party's key.
        party: The party whose assessment it must be.

    Returns:
        The assessment's JSON and the signer's name.

    Raises:
        VerificationError: If the party has no ``[[signers]]`` entry, the signature does not
            verify with its key, or the payload is not an assessment.
        InputError: If the party's public key file cannot be read.
    """
    entry = _signer_entry(loaded, party)
    if entry is None:
        raise VerificationError(
            f"no [[signers]] entry for party {party!r}",
            where=loaded.path,
            hint=f"add the party's public key to ssdf.toml:\n{_snippet(party)}",
        )
    key = load_public_key(loaded.root / entry.public_key)
    verified = verify_envelope(envelope, {party: key})
    if verified.payload_type != ASSESSMENT_PAYLOAD_TYPE:
        raise VerificationError(
            f"payloadType is {verified.payload_type[:80]!r}, expected {ASSESSMENT_PAYLOAD_TYPE!r}"
        )
    value = parse_json(verified.payload, "assessment")
    if not isinstance(value, dict):
        raise VerificationError("the signed assessment is not a JSON object")
    return value, verified.signer
