"""The model scanner's rules: ids, severities, CWEs and the SP 800-218A items they bear on.

Every finding ``ssdf scan`` reports uses one of these rules; SARIF output and the docs take
their metadata from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ssdf_ai.findings import Confidence, Finding, Rule, Severity

# The profile items model scanning serves: verify and scan acquired models (PW.4.4 R1/R2),
# scan all models for malware, vulnerabilities and backdoors (PW.7.2 R1), scan frequently
# (RV.1.2 R1), secure serialization (PW.6.1 C1).
SCAN_TASKS = ("PW.4.4", "PW.4.4.R2", "PW.7.2", "PW.7.2.R1", "RV.1.2", "RV.1.2.R1")

DANGEROUS_GLOBAL = "SSDF-SCAN-001"
UNKNOWN_GLOBAL = "SSDF-SCAN-002"
UNPARSEABLE = "SSDF-SCAN-003"
NOT_SCANNED = "SSDF-SCAN-004"
FORMAT_MISMATCH = "SSDF-SCAN-005"
ARCHIVE_LIMIT = "SSDF-SCAN-006"
UNSAFE_MEMBER = "SSDF-SCAN-007"
INVALID_SAFETENSORS = "SSDF-SCAN-008"
UNSAFE_SERIALIZATION = "SSDF-SCAN-009"
ZIP_INCONSISTENT = "SSDF-SCAN-010"
OBJECT_ARRAY = "SSDF-SCAN-011"
CUSTOM_CODE = "SSDF-SCAN-012"
TEMPLATE_INJECTION = "SSDF-SCAN-013"
EXTERNAL_DATA_PATH = "SSDF-SCAN-014"
CUSTOM_OPERATOR = "SSDF-SCAN-015"
EMBEDDED_CODE = "SSDF-SCAN-016"
CUSTOM_OBJECT = "SSDF-SCAN-017"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=DANGEROUS_GLOBAL,
            name="dangerous-pickle-global",
            description="A pickle imports or calls something that runs code, touches files, "
            "processes or the network, or reaches the import machinery when it is loaded.",
            severity=Severity.CRITICAL,
            cwe=("CWE-502",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=UNKNOWN_GLOBAL,
            name="unknown-pickle-global",
            description="A pickle imports a global that is not on the allowlist of globals known "
            "to be safe in ML artifacts.",
            severity=Severity.MEDIUM,
            cwe=("CWE-502",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=UNPARSEABLE,
            name="unparseable-content",
            description="Content could not be fully parsed; what could not be read was not "
            "checked.",
            severity=Severity.HIGH,
            cwe=("CWE-20",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=NOT_SCANNED,
            name="not-scanned",
            description="A file could not be scanned (unknown format, too large, unreadable, "
            "over a time limit); it is not known to be safe.",
            severity=Severity.HIGH,
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=FORMAT_MISMATCH,
            name="format-mismatch",
            description="The file's content is not the format its extension claims.",
            severity=Severity.MEDIUM,
            cwe=("CWE-434",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=ARCHIVE_LIMIT,
            name="archive-limit",
            description="An archive exceeds the scan limits (members, nesting, expanded size or "
            "compression ratio): a possible decompression bomb.",
            severity=Severity.HIGH,
            cwe=("CWE-409",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=UNSAFE_MEMBER,
            name="unsafe-archive-member",
            description="An archive member has an absolute or parent-escaping name, or is a link "
            "or device: extracting it could write outside the target.",
            severity=Severity.HIGH,
            cwe=("CWE-22",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=INVALID_SAFETENSORS,
            name="invalid-safetensors",
            description="A safetensors file breaks the format: header size, dtypes, shapes, "
            "byte ranges, overlaps or gaps.",
            severity=Severity.HIGH,
            cwe=("CWE-20",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=UNSAFE_SERIALIZATION,
            name="unsafe-serialization",
            description="The model is stored in a format that can run code when loaded "
            "(pickle-based); convert it to safetensors (`ssdf convert`).",
            severity=Severity.LOW,
            cwe=("CWE-502",),
            task_ids=("PW.6.1", "PW.6.1.C1"),
        ),
        Rule(
            id=ZIP_INCONSISTENT,
            name="zip-inconsistency",
            description="A zip archive's local headers disagree with its central directory "
            "(names, flags, CRC): a way to hide members from some readers.",
            severity=Severity.MEDIUM,
            cwe=("CWE-20",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=OBJECT_ARRAY,
            name="numpy-object-array",
            description="A NumPy array of dtype object holds a pickle, loaded only with "
            "allow_pickle=True.",
            severity=Severity.MEDIUM,
            cwe=("CWE-502",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=CUSTOM_CODE,
            name="custom-model-code",
            description="A model folder holds or references Python code that loading with "
            "trust_remote_code=True would import and run (config.json auto_map, *.py files).",
            severity=Severity.MEDIUM,
            cwe=("CWE-94",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=TEMPLATE_INJECTION,
            name="template-injection",
            description="A chat template (GGUF tokenizer.chat_template) reaches Python internals: "
            "rendering it can run code (Jinja server-side template injection).",
            severity=Severity.CRITICAL,
            cwe=("CWE-1336",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=EXTERNAL_DATA_PATH,
            name="external-data-path",
            description="A model's external data location is absolute or leaves the model's "
            "folder: loading it reads files elsewhere on the machine.",
            severity=Severity.HIGH,
            cwe=("CWE-22",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=CUSTOM_OPERATOR,
            name="custom-operator",
            description="A model uses operators from a non-standard domain, which run native code "
            "from a custom operator library.",
            severity=Severity.MEDIUM,
            cwe=("CWE-829",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=EMBEDDED_CODE,
            name="embedded-code",
            description="A model carries code that runs when it is loaded or executed: serialized "
            "Python bytecode (Keras Lambda layers), operations that call Python (TensorFlow "
            "PyFunc), or references to modules that run commands.",
            severity=Severity.CRITICAL,
            cwe=("CWE-94",),
            task_ids=SCAN_TASKS,
        ),
        Rule(
            id=CUSTOM_OBJECT,
            name="custom-object",
            description="A model references objects or operations outside its framework's "
            "standard set (Keras custom objects, TensorFlow file operations).",
            severity=Severity.MEDIUM,
            cwe=("CWE-829",),
            task_ids=SCAN_TASKS,
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
    confidence: Confidence = Confidence.HIGH,
    remediation: str | None = None,
) -> Finding:
    """Build a finding under one of :data:`RULES`.

    Args:
        rule_id: The rule.
        message: What was found, naming the global, member and offset where they apply.
        path: The scanned file, relative to where the scan started.
        address: Where inside it: ``member data.pkl, offset 1234``.
        severity: Overrides the rule's severity (e.g. a lower one for a less likely risk).
        confidence: How sure the rule is.
        remediation: What to do about it.

    Returns:
        The finding.
    """
    return RULES[rule_id].finding(
        message,
        path=path,
        address=address,
        severity=severity,
        confidence=confidence,
        remediation=remediation,
    )


class CappedFindings:
    """Collects one file's findings, at most ``limit``, then a single summary finding.

    Hostile files can hold millions of problems; listing each would only flood the report.

    Args:
        path: The scanned file, for every finding.
        what: What the summary counts, e.g. ``"GGUF problems"``.
        limit: How many findings are listed one by one.
        summary_severity: Severity of the summary finding (``UNPARSEABLE``'s by default).
    """

    def __init__(
        self,
        path: str,
        what: str,
        *,
        limit: int = 50,
        summary_severity: Severity | None = None,
    ) -> None:
        self.path = path
        self.what = what
        self.limit = limit
        self.summary_severity = summary_severity
        self.items: list[Finding] = []
        self.dropped = 0

    def add(
        self,
        rule_id: str,
        message: str,
        address: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        """Record a finding under ``rule_id``, or count it once the limit is reached."""
        if len(self.items) >= self.limit:
            self.dropped += 1
            return
        self.items.append(
            finding(rule_id, message, path=self.path, address=address, severity=severity)
        )

    def done(self) -> list[Finding]:
        """The findings, with the summary of those not listed."""
        if self.dropped:
            self.items.append(
                finding(
                    UNPARSEABLE,
                    f"{self.dropped} more {self.what} were not listed one by one",
                    path=self.path,
                    severity=self.summary_severity,
                )
            )
        return self.items


def as_gated(findings: Iterable[Finding], *, unscanned_allowed: bool) -> list[Finding]:
    """The findings as a scan reports and gates them.

    With ``checks.unsafe_allow_unscanned`` on, the not-scanned findings (SSDF-SCAN-004) are
    downgraded to info so that they do not fail the scan; everything else is unchanged.
    """
    if not unscanned_allowed:
        return list(findings)
    return [
        dataclasses.replace(f, severity=Severity.INFO) if f.rule_id == NOT_SCANNED else f
        for f in findings
    ]
