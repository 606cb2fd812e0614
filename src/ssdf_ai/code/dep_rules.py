"""The dependency checks' rules: ids, severities, CWEs and the SP 800-218A items they bear on.

Every finding ``ssdf deps`` reports uses one of these rules; SARIF output and the docs take
their metadata from here.
"""

from __future__ import annotations

from ssdf_ai.findings import Rule, Severity

# PW.4.1 / PW.4.4 (R1): acquire well-secured components and verify third-party components;
# RV.1.1 (R3): monitor vulnerability databases for the ML frameworks used; PO.3.2: toolchains.
COMPONENTS = ("PW.4.1", "PW.4.4", "PW.4.4.R1")
MONITORING = ("PW.4.4", "PW.4.4.R1", "RV.1.1", "RV.1.1.R3")
ML = ("PW.4.1", "PW.4.4", "PW.4.4.R1", "RV.1.1", "RV.1.1.R3")
TOOLCHAIN = ("PW.4.1", "PW.4.4", "PO.3.2")

VULNERABLE = "SSDF-DEP-001"
VULNERABLE_ML = "SSDF-DEP-002"
UNPINNED = "SSDF-DEP-003"
ALLOWS_VULNERABLE = "SSDF-DEP-004"
NO_HASHES = "SSDF-DEP-005"
NOT_VERIFIABLE = "SSDF-DEP-006"
NOT_CHECKED = "SSDF-DEP-007"
STALE_DATABASE = "SSDF-DEP-008"
UNREADABLE = "SSDF-DEP-009"
NOTHING_DECLARED = "SSDF-DEP-010"

# Days after which the advisory database is too old to trust as current.
STALE_AFTER_DAYS = 7

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=VULNERABLE,
            name="vulnerable-dependency",
            description="A pinned, locked or installed package version is affected by a known "
            "advisory; the finding's severity is the advisory's.",
            severity=Severity.HIGH,
            cwe=("CWE-1395",),
            task_ids=COMPONENTS + ("RV.1.1",),
        ),
        Rule(
            id=VULNERABLE_ML,
            name="vulnerable-ml-framework",
            description="An ML framework (PyTorch, TensorFlow, Transformers, ONNX Runtime, ...) "
            "is used at a version with a known advisory; its severity is at least the "
            "advisory's and never below medium.",
            severity=Severity.HIGH,
            cwe=("CWE-1395",),
            task_ids=ML,
        ),
        Rule(
            id=UNPINNED,
            name="unpinned-requirement",
            description="A requirement does not pin one version, so what is installed (and "
            "whether it is vulnerable) can change without a change to the project.",
            severity=Severity.LOW,
            cwe=("CWE-1357",),
            task_ids=COMPONENTS,
        ),
        Rule(
            id=ALLOWS_VULNERABLE,
            name="specifier-allows-vulnerable",
            description="An unpinned requirement allows versions with a known advisory.",
            severity=Severity.MEDIUM,
            cwe=("CWE-1395",),
            task_ids=COMPONENTS + ("RV.1.1",),
        ),
        Rule(
            id=NO_HASHES,
            name="requirements-without-hashes",
            description="A requirements file pins no artifact hashes (--hash), so a tampered "
            "or substituted package would install unnoticed.",
            severity=Severity.LOW,
            cwe=("CWE-494",),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=NOT_VERIFIABLE,
            name="dependency-not-verifiable",
            description="A dependency is installed from a URL, a path or in editable mode; it "
            "has no version to check against advisories.",
            severity=Severity.LOW,
            cwe=("CWE-494",),
            task_ids=COMPONENTS,
        ),
        Rule(
            id=NOT_CHECKED,
            name="advisories-not-checked",
            description="The local advisory database is missing or empty, so no dependency "
            "was checked for known vulnerabilities.",
            severity=Severity.HIGH,
            cwe=("CWE-1395",),
            task_ids=MONITORING,
        ),
        Rule(
            id=STALE_DATABASE,
            name="advisory-database-stale",
            description=f"The local advisory database was last updated more than "
            f"{STALE_AFTER_DAYS} days ago; newer advisories are not known to it.",
            severity=Severity.LOW,
            task_ids=MONITORING,
        ),
        Rule(
            id=UNREADABLE,
            name="unreadable-declaration",
            description="A dependency declaration could not be read (a malformed line or "
            "file, an include outside the project, a limit exceeded); what it declares was "
            "not checked.",
            severity=Severity.MEDIUM,
            cwe=("CWE-20",),
            task_ids=COMPONENTS,
        ),
        Rule(
            id=NOTHING_DECLARED,
            name="no-dependency-declarations",
            description="No requirements, pyproject or lock file (and no environment) was "
            "found, so no dependency was checked.",
            severity=Severity.LOW,
            task_ids=COMPONENTS,
        ),
    )
}
