"""The integrity monitor's rules: ids, severities, CWEs and the SP 800-218A items they serve.

Every alert ``ssdf watch`` records as evidence is a finding under one of these rules. They bear
on continuous monitoring of model weights and configuration (PS.1.3 R2, with digital
signatures as the risk-proportionate control of R4), of training data (PS.1.2 R1), on the
integrity information a signature provides (PS.2.1 R1) and on monitoring and alerting in the
development environment (PO.5.3 R1/R2).
"""

from __future__ import annotations

from ssdf_ai.findings import Finding, Rule, Severity

# Continuous integrity monitoring of weights and configuration (PS.1.3.R2) and of data
# (PS.1.2.R1) against a digital signature (PS.1.3.R4, PS.2.1.R1), alerting (PO.5.3.R1/R2).
INTEGRITY_TASKS = (
    "PS.1.3",
    "PS.1.3.R2",
    "PS.1.3.R4",
    "PS.1.2",
    "PS.1.2.R1",
    "PS.2.1",
    "PS.2.1.R1",
    "PO.5.3",
    "PO.5.3.R1",
    "PO.5.3.R2",
)
# Least privilege on weights, data and keys (PS.1.3.R3), monitored (PO.5.3.R1).
ACCESS_TASKS = ("PS.1.3", "PS.1.3.R3", "PS.1.2", "PS.1.2.R1", "PO.5.3", "PO.5.3.R1")

MODIFIED = "SSDF-INTEG-001"
PERMISSIONS = "SSDF-INTEG-002"
PRIVATE_KEY = "SSDF-INTEG-003"
RESTORED = "SSDF-INTEG-004"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=MODIFIED,
            name="integrity-violation",
            description="A file of a signed model or dataset no longer matches its signature: "
            "its content changed, it was added or removed, or the tree can no longer be "
            "verified.",
            severity=Severity.HIGH,
            cwe=("CWE-345", "CWE-494"),
            task_ids=INTEGRITY_TASKS,
        ),
        Rule(
            id=PERMISSIONS,
            name="unsafe-permissions",
            description="Model weights, data or a private key can be written (or, for keys and "
            "closed models, read) by other users of the machine.",
            severity=Severity.MEDIUM,
            cwe=("CWE-732",),
            task_ids=ACCESS_TASKS,
        ),
        Rule(
            id=PRIVATE_KEY,
            name="private-key-in-repository",
            description="A private key lies inside the watched tree or the project repository, "
            "where it is copied, committed and published with the code.",
            severity=Severity.HIGH,
            cwe=("CWE-312", "CWE-522"),
            task_ids=("PS.1.1", "PS.1.1.R2", "PS.2.1", "PS.2.1.R1", "PO.5.3", "PO.5.3.R1"),
        ),
        Rule(
            id=RESTORED,
            name="integrity-restored",
            description="A file that had differed from its signature matches it again.",
            severity=Severity.INFO,
            task_ids=INTEGRITY_TASKS,
        ),
    )
}


def finding(
    rule_id: str,
    message: str,
    *,
    path: str | None = None,
    address: str | None = None,
    severity: Severity | None = None,
    remediation: str | None = None,
) -> Finding:
    """Build a finding under one of :data:`RULES`.

    Args:
        rule_id: The rule.
        message: What happened to which file.
        path: The file, relative to the project root where it lies inside it.
        address: Where inside it (a shard ``name:start:end``).
        severity: Overrides the rule's severity.
        remediation: What to do about it.

    Returns:
        The finding.
    """
    return RULES[rule_id].finding(
        message, path=path, address=address, severity=severity, remediation=remediation
    )
