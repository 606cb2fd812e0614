"""Findings: what is wrong, where, how bad, and which SP 800-218A tasks it bears on.

Every capability reports problems as :class:`Finding` objects, and the evidence store, the
assessment and every renderer work on this one type.

The types are frozen dataclasses that validate themselves, not pydantic models: the scanner
builds them on its hot path and ``ssdf scan`` must start faster than a pickle denylist, so this
module imports nothing beyond the standard library. Pydantic models still embed them as fields
(pydantic validates dataclasses natively; ``__pydantic_config__`` forbids unknown keys and the
JSON Schema hooks add the constraints), and :meth:`Finding.to_dict` / :meth:`Finding.from_dict`
give the JSON form.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Mapping
from typing import Any


class Severity(enum.StrEnum):
    """How bad a finding is. Ordered: ``Severity.LOW < Severity.HIGH``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order info < low < medium < high < critical."""
        return _SEVERITY_ORDER.index(self)

    # str defines all four comparisons alphabetically; every one is replaced by rank order.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __hash__(self) -> int:
        return str.__hash__(self)

    @property
    def sarif_level(self) -> str:
        """The SARIF ``level`` this severity maps to."""
        if self.rank >= Severity.HIGH.rank:
            return "error"
        if self is Severity.MEDIUM:
            return "warning"
        return "note"

    @property
    def security_severity(self) -> str:
        """A CVSS-like score for GitHub code scanning's ``security-severity`` property."""
        return {"info": "0.0", "low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}[
            self.value
        ]


_SEVERITY_ORDER = list(Severity)


class Confidence(enum.StrEnum):
    """How sure the rule is that the finding is real."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Outcome(enum.StrEnum):
    """The verdict of a control or task evaluation.

    Richer than pass/fail on purpose: an assessment must say when it could not tell.
    ``inherited`` marks a task that another party performs (shared responsibility) and whose
    verdict has not been imported from that party.
    """

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not-satisfied"
    PARTIAL = "partial"
    NOT_APPLICABLE = "not-applicable"
    NEEDS_ATTESTATION = "needs-attestation"
    WAIVED = "waived"
    STALE = "stale"
    UNKNOWN = "unknown"
    INHERITED = "inherited"


RULE_ID = re.compile(r"^SSDF-[A-Z]+-[0-9]{3}$")
FORBID_EXTRA = {"extra": "forbid"}


def json_schema_constraints(
    **constraints: dict[str, Any],
) -> Callable[..., dict[str, Any]]:
    """A ``__get_pydantic_json_schema__`` that adds per-field constraints to the schema.

    The dataclasses check their constraints in ``__post_init__``; this makes the JSON Schema
    that pydantic derives for reports say the same (a nullable field gets the constraint on its
    non-null branch).
    """

    def hook(cls: type, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler.resolve_ref_schema(handler(core_schema))
        for name, extra in constraints.items():
            prop = schema["properties"][name]
            branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
            for branch in branches:
                branch.update(extra)
        return schema

    return classmethod(hook)  # type: ignore[return-value]


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    """Where a finding is: a file (with optional line and column), or a logical address.

    ``path`` is relative to the project root when the file lies inside it.
    ``address`` names something inside the file that has no line, such as
    ``pickle opcode 42`` or ``tensor layer.0.weight``.
    """

    path: str | None = None
    line: int | None = None
    column: int | None = None
    address: str | None = None

    __pydantic_config__ = FORBID_EXTRA
    __get_pydantic_json_schema__ = json_schema_constraints(
        line={"minimum": 1}, column={"minimum": 1}
    )

    def __post_init__(self) -> None:
        for name in ("line", "column"):
            value = getattr(self, name)
            _check(
                value is None or (type(value) is int and value >= 1),
                f"location {name} must be a whole number >= 1, not {value!r}",
            )


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """One problem found by a rule.

    Attributes:
        rule_id: Stable id of the rule, ``SSDF-<AREA>-<NNN>``.
        severity: How bad it is.
        confidence: How sure the rule is.
        message: One or two sentences a person can act on.
        location: Where it is.
        cwe: CWE ids such as ``CWE-502``.
        task_ids: SP 800-218A task and item ids it bears on, such as ``PW.4.4.R2``.
        remediation: What to do about it, if the rule knows.
    """

    rule_id: str
    severity: Severity
    confidence: Confidence = Confidence.HIGH
    message: str
    location: Location = dataclasses.field(default_factory=Location)
    cwe: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()
    remediation: str | None = None

    __pydantic_config__ = FORBID_EXTRA
    __get_pydantic_json_schema__ = json_schema_constraints(
        rule_id={"pattern": RULE_ID.pattern}, message={"minLength": 1}
    )

    def __post_init__(self) -> None:
        _check(
            isinstance(self.rule_id, str) and RULE_ID.match(self.rule_id) is not None,
            f"rule id {self.rule_id!r} is not of the form SSDF-AREA-NNN",
        )
        _check(isinstance(self.message, str) and bool(self.message), "message must not be empty")
        _check(isinstance(self.location, Location), "location must be a Location")
        _set(self, "severity", Severity(self.severity))
        _set(self, "confidence", Confidence(self.confidence))
        _set(self, "cwe", tuple(self.cwe))
        _set(self, "task_ids", tuple(self.task_ids))

    @property
    def fingerprint(self) -> str:
        """A stable id of this finding across runs: rule and location, not the message.

        Waivers and approvals name findings by fingerprint, so a waiver survives a re-scan
        that finds the same problem in the same place.
        """
        import hashlib  # OpenSSL's start-up is not worth paying for findings never stored

        loc = self.location
        key = "\x1f".join([self.rule_id, loc.path or "", str(loc.line or ""), loc.address or ""])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data (enums as their values, tuples as lists)."""
        data = dataclasses.asdict(self)
        data["severity"] = self.severity.value
        data["confidence"] = self.confidence.value
        data["cwe"] = list(self.cwe)
        data["task_ids"] = list(self.task_ids)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` data (as stored or read from JSON).

        Raises:
            ValueError: When a key is unknown or a value is invalid.
        """
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        _check(not unknown, f"unknown finding field(s): {', '.join(sorted(unknown))}")
        fields = dict(data)
        location = fields.get("location")
        if isinstance(location, Mapping):
            extra = set(location) - {f.name for f in dataclasses.fields(Location)}
            _check(not extra, f"unknown location field(s): {', '.join(sorted(extra))}")
            fields["location"] = Location(**location)
        return cls(**fields)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """Metadata of a rule, shared by all its findings (used by SARIF and the docs)."""

    id: str
    name: str
    description: str
    severity: Severity
    cwe: tuple[str, ...] = ()
    task_ids: tuple[str, ...] = ()
    help_uri: str | None = None

    __pydantic_config__ = FORBID_EXTRA
    __get_pydantic_json_schema__ = json_schema_constraints(id={"pattern": RULE_ID.pattern})

    def __post_init__(self) -> None:
        _check(
            isinstance(self.id, str) and RULE_ID.match(self.id) is not None,
            f"rule id {self.id!r} is not of the form SSDF-AREA-NNN",
        )
        _set(self, "severity", Severity(self.severity))
        _set(self, "cwe", tuple(self.cwe))
        _set(self, "task_ids", tuple(self.task_ids))

    def finding(
        self,
        message: str,
        *,
        path: str | None = None,
        address: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence = Confidence.HIGH,
        remediation: str | None = None,
    ) -> Finding:
        """A finding under this rule: its id, CWEs and task ids, its severity unless overridden.

        Args:
            message: What was found, and where.
            path: The file concerned.
            address: Where inside it.
            severity: Overrides the rule's severity.
            confidence: How sure the rule is.
            remediation: What to do about it.
        """
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            confidence=confidence,
            message=message,
            location=Location(path=path, address=address),
            cwe=self.cwe,
            task_ids=self.task_ids,
            remediation=remediation,
        )
