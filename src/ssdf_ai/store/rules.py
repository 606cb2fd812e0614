"""The rules of evidence verification, defined once with their metadata.

``ssdf evidence verify`` reports each problem it finds in an evidence archive (or in the local
store) as a :class:`~ssdf_ai.findings.Finding` under one of these rules. Every problem means
the evidence can no longer be trusted as it stands, so every rule is high severity.
"""

from __future__ import annotations

from ssdf_ai.findings import Finding, Rule, Severity

# SP 800-218A PS.3.1 (archive what each release needs) and PS.2.1 (integrity verification
# information) are what an intact evidence archive demonstrates.
_TASKS = ("PS.3.1", "PS.2.1")

MEMBER_CHANGED = "SSDF-EVID-001"
MEMBER_MISSING = "SSDF-EVID-002"
MEMBER_EXTRA = "SSDF-EVID-003"
UNSAFE_NAME = "SSDF-EVID-004"
UNSAFE_TYPE = "SSDF-EVID-005"
BLOB_NAME_MISMATCH = "SSDF-EVID-006"
MANIFEST_INVALID = "SSDF-EVID-007"
DUPLICATE_MEMBER = "SSDF-EVID-008"
LIMIT_EXCEEDED = "SSDF-EVID-009"
ARCHIVE_CORRUPT = "SSDF-EVID-010"
STORE_DAMAGED = "SSDF-EVID-011"


def _rule(rule_id: str, name: str, description: str, cwe: tuple[str, ...]) -> Rule:
    return Rule(
        id=rule_id,
        name=name,
        description=description,
        severity=Severity.HIGH,
        cwe=cwe,
        task_ids=_TASKS,
    )


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        _rule(
            MEMBER_CHANGED,
            "evidence-changed",
            "A piece of evidence does not have the SHA-256 digest or size its manifest records.",
            ("CWE-354",),
        ),
        _rule(
            MEMBER_MISSING,
            "evidence-missing",
            "A piece of evidence the manifest or the records refer to is not there.",
            ("CWE-345",),
        ),
        _rule(
            MEMBER_EXTRA,
            "evidence-unlisted",
            "The archive holds a member its manifest does not list.",
            ("CWE-345",),
        ),
        _rule(
            UNSAFE_NAME,
            "unsafe-member-name",
            "An archive member's name is absolute, climbs out of the archive (..) or is not "
            "in normal form; extracting it could write outside the target directory.",
            ("CWE-22",),
        ),
        _rule(
            UNSAFE_TYPE,
            "unsafe-member-type",
            "An archive member is not a regular file (a symbolic or hard link, a device, a "
            "FIFO or a directory); evidence archives hold regular files only.",
            ("CWE-59",),
        ),
        _rule(
            BLOB_NAME_MISMATCH,
            "blob-name-mismatch",
            "A blob's content does not hash to the digest that is its name.",
            ("CWE-354",),
        ),
        _rule(
            MANIFEST_INVALID,
            "manifest-invalid",
            "The archive's manifest.json is missing, not valid JSON, of an unknown format, or "
            "inconsistent with itself.",
            ("CWE-345",),
        ),
        _rule(
            DUPLICATE_MEMBER,
            "duplicate-member",
            "Two archive members have the same name; extraction would silently keep only one.",
            ("CWE-345",),
        ),
        _rule(
            LIMIT_EXCEEDED,
            "verification-limit-exceeded",
            "The archive exceeds a verification limit (member count, total size or manifest "
            "size), so it was not read to the end and cannot be trusted.",
            ("CWE-409", "CWE-400"),
        ),
        _rule(
            ARCHIVE_CORRUPT,
            "archive-corrupt",
            "The archive is truncated or damaged after its first member.",
            ("CWE-345",),
        ),
        _rule(
            STORE_DAMAGED,
            "store-damaged",
            "The evidence store's database fails SQLite's integrity check.",
            ("CWE-345",),
        ),
    )
}


def finding(
    rule_id: str, message: str, *, path: str | None = None, address: str | None = None
) -> Finding:
    """Build a finding under one of :data:`RULES`.

    Args:
        rule_id: The rule's id.
        message: What is wrong with this particular member or record.
        path: The archive (or store) concerned.
        address: The member or record inside it.

    Returns:
        The finding, with the rule's severity, CWE and task ids.
    """
    return RULES[rule_id].finding(message, path=path, address=address)
