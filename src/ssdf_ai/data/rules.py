"""The data checks' rules: ids, severities, CWEs and the SP 800-218A items they bear on.

Every finding ``ssdf data check`` reports uses one of these rules; SARIF output and the docs
take their metadata from here.
"""

from __future__ import annotations

from ssdf_ai.findings import Rule, Severity

# PW.3.1: analyse data for poisoning, bias, homogeneity and tampering (R1 provenance and
# integrity, R2 anomaly and bias detection, cleaning and filtering); PS.1.2 R1: monitor the
# integrity of data; PO.5.1 R6 / PO.5.3: no secrets in places they do not belong.
ANALYSIS = ("PW.3.1", "PW.3.1.R2")
INTEGRITY = ("PW.3.1", "PW.3.1.R1", "PS.1.2", "PS.1.2.R1")
SECRETS = ("PW.3.1", "PO.5.1", "PO.5.1.R6", "PO.5.3")

UNREADABLE_ROWS = "SSDF-DATA-001"
SECRET = "SSDF-DATA-002"  # noqa: S105 - a rule id, not a password
PII = "SSDF-DATA-003"
INJECTION = "SSDF-DATA-004"
HIDDEN_UNICODE = "SSDF-DATA-005"
DUPLICATES = "SSDF-DATA-006"
LABEL_ISSUE = "SSDF-DATA-007"
BACKDOOR = "SSDF-DATA-008"
TEXT_TRIGGER = "SSDF-DATA-009"
BIAS = "SSDF-DATA-010"
IMBALANCE = "SSDF-DATA-011"
OUTLIER = "SSDF-DATA-012"
TAMPERED = "SSDF-DATA-013"
DRIFT = "SSDF-DATA-014"
NOT_CHECKED = "SSDF-DATA-015"
APPENDED = "SSDF-DATA-016"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=UNREADABLE_ROWS,
            name="unreadable-rows",
            description="Rows could not be read (malformed, over a size or nesting limit, an "
            "undecodable image); they were skipped and not checked.",
            severity=Severity.MEDIUM,
            cwe=("CWE-20",),
            task_ids=ANALYSIS,
        ),
        Rule(
            id=SECRET,
            name="secret-in-data",
            description="A credential (API key, token, private key, password in a URL) appears "
            "in the data; a model trained on it can repeat it.",
            severity=Severity.HIGH,
            cwe=("CWE-798", "CWE-312"),
            task_ids=SECRETS,
        ),
        Rule(
            id=PII,
            name="personal-data",
            description="Personal data (e-mail, phone, payment card, national id, IBAN) appears "
            "in the data.",
            severity=Severity.MEDIUM,
            cwe=("CWE-359",),
            task_ids=ANALYSIS,
        ),
        Rule(
            id=INJECTION,
            name="prompt-injection-in-data",
            description="Text that instructs a model to ignore its instructions or reveal its "
            "prompt appears in the data (poisoned fine-tuning or retrieval content).",
            severity=Severity.MEDIUM,
            cwe=("CWE-1427",),
            task_ids=ANALYSIS,
        ),
        Rule(
            id=HIDDEN_UNICODE,
            name="hidden-unicode",
            description="Invisible or bidirectional-control characters hide text from a "
            "reviewer while a model still reads it.",
            severity=Severity.MEDIUM,
            cwe=("CWE-1007",),
            task_ids=ANALYSIS,
        ),
        Rule(
            id=DUPLICATES,
            name="duplicates",
            description="Rows repeat other rows exactly or nearly: duplication over-weights "
            "them in training and leaks between splits; large clusters mean homogeneous data.",
            severity=Severity.LOW,
            task_ids=ANALYSIS,
        ),
        Rule(
            id=LABEL_ISSUE,
            name="label-issue",
            description="A row's label disagrees with what the rest of the data predicts for "
            "it (confident learning): a labelling error or a flipped-label poison.",
            severity=Severity.MEDIUM,
            task_ids=ANALYSIS,
        ),
        Rule(
            id=BACKDOOR,
            name="backdoor-pattern",
            description="A rare feature pattern is tied to one label: the signature of a "
            "backdoor (trigger) planted in training data.",
            severity=Severity.HIGH,
            cwe=("CWE-506",),
            task_ids=ANALYSIS,
        ),
        Rule(
            id=TEXT_TRIGGER,
            name="text-trigger",
            description="A rare token or phrase is tied to one label or one response: the "
            "signature of a text backdoor in fine-tuning or alignment data.",
            severity=Severity.HIGH,
            cwe=("CWE-506",),
            task_ids=ANALYSIS,
        ),
        Rule(
            id=BIAS,
            name="label-rate-disparity",
            description="The rate of the favourable label differs across the groups of a "
            "declared sensitive attribute (statistical parity difference, disparate impact).",
            severity=Severity.MEDIUM,
            task_ids=ANALYSIS,
        ),
        Rule(
            id=IMBALANCE,
            name="class-imbalance",
            description="Some classes have far fewer rows than others.",
            severity=Severity.LOW,
            task_ids=ANALYSIS,
        ),
        Rule(
            id=OUTLIER,
            name="outlier",
            description="A row lies far from the rest of the data (robust z-scores and an "
            "isolation forest) or holds non-finite values.",
            severity=Severity.LOW,
            task_ids=ANALYSIS,
        ),
        Rule(
            id=TAMPERED,
            name="dataset-changed",
            description="The dataset's content differs from its registered digest: it changed "
            "after it was registered (tampering, or an unrecorded update).",
            severity=Severity.HIGH,
            cwe=("CWE-345",),
            task_ids=INTEGRITY,
        ),
        Rule(
            id=DRIFT,
            name="schema-drift",
            description="The dataset's columns or their types differ from the profile its last "
            "check recorded.",
            severity=Severity.MEDIUM,
            task_ids=INTEGRITY,
        ),
        Rule(
            id=NOT_CHECKED,
            name="check-not-run",
            description="A requested check could not run (a column is missing, the data is too "
            "large for it, an extra is not installed); the data is not known to pass it.",
            severity=Severity.MEDIUM,
            task_ids=ANALYSIS,
        ),
        Rule(
            id=APPENDED,
            name="rows-appended",
            description="Rows were added since the last recorded check, after rows that are "
            "unchanged: new data that has not been reviewed.",
            severity=Severity.LOW,
            task_ids=INTEGRITY,
        ),
    )
}
