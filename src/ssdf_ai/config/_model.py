"""The configuration's data model: pydantic models for every table of ``ssdf.toml``.

Every model forbids unknown keys, and every default is the strictest sensible setting
(SP 800-218A PW.9.1: a secure baseline by default). A setting that weakens a check is named
``unsafe_…`` and is reported as a warning whenever it is switched on.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import posixpath
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)
from pydantic_core import PydanticCustomError

from ssdf_ai.config._ids import KNOWN_IDS
from ssdf_ai.findings import Severity


class OrganizationKind(enum.StrEnum):
    """Which kind of organisation runs the project (SP 800-218A section 1 and PO.2.1.N1)."""

    AI_MODEL_PRODUCER = "ai-model-producer"
    AI_SYSTEM_PRODUCER = "ai-system-producer"
    ACQUIRER = "acquirer"


class Area(enum.StrEnum):
    """The areas that roles must cover (PO.2.1.R1) and requirements address (PO.1.2.R1)."""

    AI_MODEL_DEVELOPMENT = "ai-model-development"
    AI_MODEL_OPERATIONS = "ai-model-operations"
    DATA_SCIENCE = "data-science"


class RequirementSource(enum.StrEnum):
    """Where a security requirement comes from (PO.1.1, PO.1.2.R1)."""

    LAW = "law"
    REGULATION = "regulation"
    CONTRACT = "contract"
    STANDARD = "standard"
    POLICY = "policy"
    BUSINESS_OBJECTIVE = "business-objective"
    RISK_MANAGEMENT = "risk-management"


class Audience(enum.StrEnum):
    """Who a requirement applies to: this organisation, or third-party suppliers (PO.1.3)."""

    INTERNAL = "internal"
    THIRD_PARTY = "third-party"


SELF = "self"
_PARTY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_RULE_ID = re.compile(r"^SSDF-[A-Z]+-[0-9]{3}$")
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_STORE_URL = re.compile(r"^(sqlite|postgresql)(\+[a-z0-9_]+)?://")


def _bad(kind: str, message: str, hint: str | None = None, **ctx: Any) -> PydanticCustomError:
    """A validation error whose context carries a hint for the error report."""
    context: dict[str, Any] = dict(ctx)
    if hint:
        context["hint"] = hint
    return PydanticCustomError(f"ssdf_{kind}", message, context)


def _check_ssdf_id(value: str) -> str:
    if value in KNOWN_IDS:
        return value
    close = difflib.get_close_matches(value.strip().upper(), sorted(KNOWN_IDS), n=3, cutoff=0.6)
    hint = "ids are practices such as PO.2 or tasks such as PO.2.1; `ssdf profile list` shows all"
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "? " + hint
    raise _bad(
        "unknown_id", "'{value}' is not an SP 800-218A practice or task id", hint, value=value
    )


def _check_relative_path(value: str) -> str:
    hint = "write paths relative to the project root with forward slashes, such as 'models'"
    if not value.strip():
        raise _bad("path", "empty path", hint)
    if "\\" in value:
        raise _bad("path", "'{value}' contains a backslash", hint, value=value)
    if value.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", value):
        raise _bad("path", "'{value}' is not relative to the project root", hint, value=value)
    normal = posixpath.normpath(value)
    if normal == ".." or normal.startswith("../"):
        raise _bad("path", "'{value}' leaves the project directory", hint, value=value)
    return value


def _check_party(value: str) -> str:
    if _PARTY.match(value):
        return value
    raise _bad(
        "party",
        "'{value}' is not a party name",
        "use 'self' or a short lower-case name such as 'model-provider'",
        value=value,
    )


def _check_approval_target(value: str) -> str:
    if value in {s.value for s in Severity} or _RULE_ID.match(value):
        return value
    severities = ", ".join(s.value for s in Severity)
    raise _bad(
        "approval_target",
        "'{value}' is neither a severity nor a rule id",
        f"use a severity ({severities}) or a rule id such as SSDF-SCAN-001",
        value=value,
    )


def _check_plain_id(value: str) -> str:
    if _PLAIN_ID.match(value):
        return value
    raise _bad(
        "id",
        "'{value}' is not a valid id",
        "use letters, digits, '.', '_' and '-', starting with a letter or digit",
        value=value,
    )


def _check_store_url(value: str | None) -> str | None:
    if value is None or _STORE_URL.match(value):
        return value
    raise _bad(
        "store_url",
        "'{value}' is not a supported database URL",
        "use sqlite:///path/to/evidence.db or postgresql://host/dbname "
        "(optionally with a driver, such as postgresql+psycopg://)",
        value=value,
    )


def _flatten_ids(value: Any) -> Any:
    """Turn ``PW.4.4 = "x"`` (which TOML reads as nested tables) back into ``"PW.4.4"``."""
    if not isinstance(value, dict):
        return value
    flat: dict[str, Any] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, item in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(item, dict):
                walk(name, item)
            else:
                flat[name] = item

    walk("", value)
    return flat


NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
SsdfId = Annotated[StrictStr, AfterValidator(_check_ssdf_id)]
RelativePath = Annotated[StrictStr, AfterValidator(_check_relative_path)]
PartyName = Annotated[StrictStr, AfterValidator(_check_party)]
ApprovalTarget = Annotated[StrictStr, AfterValidator(_check_approval_target)]
PlainId = Annotated[StrictStr, AfterValidator(_check_plain_id)]
TaskPriority = Literal["High", "Medium", "Low"]

_WHOLE_PROJECT: tuple[str, ...] = (".",)


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSection(_Table):
    """``[project]``: what the project is called and who runs it.

    Attributes:
        name: The project's name, as reports should show it.
        kind: The kind of organisation: ai-model-producer, ai-system-producer or acquirer.
    """

    name: StrictStr = Field(min_length=1, max_length=200)
    kind: OrganizationKind


class PathsSection(_Table):
    """``[paths]``: where models, datasets and code are, relative to the project root.

    Each entry is a file, a directory (everything under it) or a glob. The default, ``"."``,
    is the whole project: what is not excluded is checked.

    Attributes:
        models: Model files and weights (PW.4.1, PW.4.4, PS.1.3).
        datasets: Training, testing, fine-tuning and aligning data (PS.1.2, PW.3).
        code: Source code, pipelines and configuration-as-code (PS.1.1, PW.5, PW.7).
    """

    models: tuple[RelativePath, ...] = _WHOLE_PROJECT
    datasets: tuple[RelativePath, ...] = _WHOLE_PROJECT
    code: tuple[RelativePath, ...] = _WHOLE_PROJECT


class Role(_Table):
    """One ``[[roles]]`` entry (PO.2.1, PO.2.2).

    Attributes:
        name: The role's name, unique in the file.
        holders: The people or teams who hold it.
        responsibilities: SP 800-218A practice or task ids the role is responsible for.
        covers: Which of the PO.2.1.R1 areas the role takes on.
        reviewed: When the role was last reviewed (PO.2.1: review periodically).
        review_interval_days: How often it must be reviewed.
    """

    name: StrictStr = Field(min_length=1, max_length=200)
    holders: tuple[NonEmptyStr, ...] = Field(min_length=1)
    responsibilities: tuple[SsdfId, ...] = Field(min_length=1)
    covers: tuple[Area, ...] = ()
    reviewed: dt.date = Field(strict=True)
    review_interval_days: StrictInt = Field(default=365, ge=1, le=1095)

    @property
    def review_due(self) -> dt.date:
        """The date by which the role must be reviewed again."""
        return self.reviewed + dt.timedelta(days=self.review_interval_days)


class Requirement(_Table):
    """One ``[[requirements]]`` entry: a security requirement (PO.1.1, PO.1.2, PO.1.3).

    Attributes:
        id: A unique id such as ``REQ-001``.
        text: The requirement itself.
        source: Where it comes from: law, regulation, contract, standard, policy,
            business-objective or risk-management.
        reference: The document it comes from (a law's article, a contract clause, a policy).
        covers_ai: Whether it addresses AI model development (PO.1.1.R1).
        applies_to: Whether it binds this organisation, third-party suppliers (PO.1.3), or both.
        tasks: SP 800-218A practice or task ids it bears on.
    """

    id: PlainId
    text: StrictStr = Field(min_length=1)
    source: RequirementSource
    reference: StrictStr = Field(min_length=1)
    covers_ai: StrictBool = False
    applies_to: tuple[Audience, ...] = Field(default=(Audience.INTERNAL,), min_length=1)
    tasks: tuple[SsdfId, ...] = ()


class EvidenceChecks(_Table):
    """``[checks.evidence]``: how fresh evidence must be (PO.4.2).

    Attributes:
        max_age_days: Evidence older than this is stale and must be produced again.
    """

    max_age_days: StrictInt = Field(default=90, ge=1, le=3650)


class ChecksSection(_Table):
    """``[checks]``: the criteria for security checks (PO.4.1).

    Attributes:
        fail_on: Findings at or above this severity fail a check (exit code 1).
        required_controls: Control ids that must be satisfied for an assessment to pass.
        require_approval_for: Severities or rule ids whose waiver needs a human approver
            (PO.4.1.C1).
        approver_roles: Names of ``[[roles]]`` whose holders may approve waivers. Empty (the
            default) means nobody can: waivers that need approval never pass.
        require_evidence_for: Task priorities (High, Medium, Low) whose tasks fail the gate
            unless automated evidence or a current attestation satisfies them. Default: all.
        evidence: Freshness of evidence.
        unsafe_allow_unscanned: Count files that could not be scanned as passing instead of
            failing closed.
        unsafe_accept_stale_evidence: Accept evidence older than ``evidence.max_age_days``.
    """

    fail_on: Severity = Severity.LOW
    required_controls: tuple[PlainId, ...] = ()
    approver_roles: tuple[NonEmptyStr, ...] = ()
    require_evidence_for: tuple[TaskPriority, ...] = ("High", "Medium", "Low")
    require_approval_for: tuple[ApprovalTarget, ...] = (
        Severity.HIGH.value,
        Severity.CRITICAL.value,
    )
    evidence: EvidenceChecks = Field(default_factory=EvidenceChecks)
    unsafe_allow_unscanned: StrictBool = Field(
        default=False,
        description="files that could not be scanned count as passing instead of failing",
    )
    unsafe_accept_stale_evidence: StrictBool = Field(
        default=False,
        description="evidence older than checks.evidence.max_age_days is accepted",
    )


class Signer(_Table):
    """One ``[[signers]]`` entry: whose signatures ssdf-ai trusts, and with which key.

    A signer is a person (matching a role holder) who signs attestations, waivers and
    approvals, or another party (matching a ``[responsibility]`` party) whose signed
    assessment may be imported.

    Attributes:
        name: The person's or party's name, exactly as in ``roles.holders`` or
            ``[responsibility]``.
        public_key: The signer's PEM public key file, relative to the project root
            (``ssdf keys generate`` writes one).
    """

    name: StrictStr = Field(min_length=1, max_length=200)
    public_key: RelativePath


class StoreSection(_Table):
    """``[store]``: where evidence is kept (PO.3.3, PS.3.1).

    Attributes:
        url: A SQLAlchemy database URL; unset means the default SQLite file under ``.ssdf/``.
    """

    url: Annotated[StrictStr | None, AfterValidator(_check_store_url)] = None


_CATEGORY = re.compile(r"^other:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_RESTRICTION = (
    "restricted: trained on sensitive data; no release or sharing without review by the data owner"
)


def _check_category(value: str) -> str:
    from ssdf_ai.provenance.registry import SENSITIVE_CATEGORIES

    if value in SENSITIVE_CATEGORIES or _CATEGORY.match(value):
        return value
    close = difflib.get_close_matches(value.lower(), SENSITIVE_CATEGORIES, n=2, cutoff=0.6)
    hint = f"use one of {', '.join(SENSITIVE_CATEGORIES)}, or other:NAME for another category"
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "? " + hint
    raise _bad("category", "'{value}' is not a sensitive-data category", hint, value=value)


SensitiveCategory = Annotated[StrictStr, AfterValidator(_check_category)]


class DataSection(_Table):
    """``[data]``: how sensitive training data restricts the models made from it (PS.3.2 R2).

    A model trained, fine-tuned or evaluated on data registered as sensitive
    (``ssdf data register --sensitive pii``) carries the access restriction of each category;
    ``ssdf record`` writes it into the run's provenance and ``ssdf data list`` flags the model.

    Attributes:
        restrictions: Sensitive-data category (pii, phi, pci, biometric, financial,
            confidential, minors or ``other:NAME``) -> the access restriction that models
            made from such data must carry, such as ``"restricted: ML team only; no public
            release"``.
        default_restriction: The restriction for categories ``restrictions`` does not list.
    """

    restrictions: dict[SensitiveCategory, NonEmptyStr] = Field(default_factory=dict)
    default_restriction: NonEmptyStr = DEFAULT_RESTRICTION

    def restriction_for(self, category: str) -> str:
        """The access restriction models made from data of ``category`` must carry."""
        return self.restrictions.get(category, self.default_restriction)


class ModelEntry(_Table):
    """One ``[[models]]`` entry: a model the project produces or uses, and why (PS.3.1 R2).

    Attributes:
        path: The model's file or folder, relative to the project root.
        name: Its name, as reports and model cards show it.
        justification: Why this model and architecture were chosen (PS.3.1 R2).
        intended_use: What it is meant to be used for.
        limitations: Known limitations and uses it is not fit for.
        base_model: The model it was fine-tuned from: a URI (``hf://org/model``) or a
            project path.
        license: Its licence (an SPDX id, ``LicenseRef-…`` or ``NOASSERTION``).
    """

    path: RelativePath
    name: StrictStr = Field(min_length=1, max_length=200)
    justification: StrictStr = Field(min_length=1)
    intended_use: NonEmptyStr | None = None
    limitations: NonEmptyStr | None = None
    base_model: NonEmptyStr | None = None
    license: NonEmptyStr | None = None


class Config(_Table):
    """The whole configuration: one ``ssdf.toml`` or ``[tool.ssdf]`` table.

    Attributes:
        project: Name and kind of organisation.
        paths: Where models, datasets and code are.
        roles: Roles and responsibilities (PO.2.1).
        responsibility: Task or practice id -> the party that performs it, for tasks shared
            with another party (PO.2.1.N1); ``self`` is this organisation.
        requirements: Security requirements (PO.1).
        checks: Criteria for security checks (PO.4.1).
        signers: Trusted signers and their public keys.
        store: The evidence store.
        data: Access restrictions of models made from sensitive data (PS.3.2 R2).
        models: The project's models and why they were chosen (PS.3.1 R2).
    """

    project: ProjectSection
    paths: PathsSection = Field(default_factory=PathsSection)
    roles: tuple[Role, ...] = ()
    responsibility: Annotated[dict[SsdfId, PartyName], BeforeValidator(_flatten_ids)] = Field(
        default_factory=dict
    )
    requirements: tuple[Requirement, ...] = ()
    checks: ChecksSection = Field(default_factory=ChecksSection)
    signers: tuple[Signer, ...] = ()
    store: StoreSection = Field(default_factory=StoreSection)
    data: DataSection = Field(default_factory=DataSection)
    models: tuple[ModelEntry, ...] = ()

    def party_for(self, task_id: str) -> str:
        """Return who performs a task: ``self`` unless ``[responsibility]`` says otherwise.

        A task inherits an entry for its practice (``PW.4`` covers ``PW.4.4``).

        Args:
            task_id: A task id such as ``PW.4.4``.

        Returns:
            The party's name, or ``"self"``.
        """
        if task_id in self.responsibility:
            return self.responsibility[task_id]
        practice = task_id.rsplit(".", 1)[0]
        return self.responsibility.get(practice, SELF)


class ConfigWarning(BaseModel):
    """A setting that is valid but weakens security or leaves a task unaddressed.

    Attributes:
        where: ``file:line`` where it is, or the file alone.
        key: The key path, such as ``checks.unsafe_allow_unscanned``.
        message: What is weak about it.
        hint: What to do about it.
        task_ids: The SP 800-218A tasks it bears on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    where: str
    key: str
    message: str
    hint: str | None = None
    task_ids: tuple[str, ...] = ()
