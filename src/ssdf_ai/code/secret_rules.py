"""The secret scan's rules: ids, severities, CWEs and the SP 800-218A items they bear on.

Every finding ``ssdf secrets`` reports uses one of these rules; SARIF output and
``docs/secrets.md`` take their metadata from here.
"""

from __future__ import annotations

from ssdf_ai.findings import Rule, Severity

# PO.5.1 R6: monitor for plaintext secrets; PO.5.1 R2/R3: sensitive data only where it is
# approved to be; PO.5.3: protect the development environment's credentials. PW.5.1 (secure
# coding: no hard-coded credentials) is added to a finding when the secret sits in source code.
SECRETS = ("PO.5.1", "PO.5.1.R6", "PO.5.3")
HARD_CODED = "PW.5.1"

IN_TREE = "SSDF-SECRET-001"
ONLY_IN_HISTORY = "SSDF-SECRET-002"
IN_NOTEBOOK_OUTPUT = "SSDF-SECRET-003"
IN_MODEL_METADATA = "SSDF-SECRET-004"
PRIVATE_KEY_FILE = "SSDF-SECRET-005"
NOT_SCANNED = "SSDF-SECRET-006"

REMEDIATION = (
    "Rotate (revoke and reissue) the credential: anyone who read the file may have it. Then "
    "remove it from the file and load it from a secret store or an environment variable. "
    "If it is a deliberate test value, add it to the baseline with a reason "
    "(ssdf secrets --update-baseline)."
)
HISTORY_REMEDIATION = (
    "Rotate (revoke and reissue) the credential: every clone of the repository still holds "
    "it. Removing it from the files does not remove it from git history; once it is rotated, "
    "rewrite the history (git filter-repo) only if the old value must not be seen at all."
)
NOTEBOOK_REMEDIATION = (
    "Rotate the credential, clear the notebook's outputs (jupyter nbconvert --clear-output) "
    "and stop printing secrets in cells; read them from the environment instead."
)
MODEL_REMEDIATION = (
    "Rotate the credential and rewrite the model's metadata without it (metadata ships with "
    "every copy of the model); keep credentials out of training and export configurations."
)
KEY_REMEDIATION = (
    "Treat the key as compromised: replace the key pair, revoke any certificate or access "
    "granted to it, and keep private keys out of the repository (a secret store, or an "
    "ignored file with restrictive permissions)."
)
NOT_SCANNED_REMEDIATION = (
    "Check the file separately, or keep large generated files out of the repository."
)

REMEDIATIONS: dict[str, str] = {
    IN_TREE: REMEDIATION,
    ONLY_IN_HISTORY: HISTORY_REMEDIATION,
    IN_NOTEBOOK_OUTPUT: NOTEBOOK_REMEDIATION,
    IN_MODEL_METADATA: MODEL_REMEDIATION,
    PRIVATE_KEY_FILE: KEY_REMEDIATION,
    NOT_SCANNED: NOT_SCANNED_REMEDIATION,
}

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=IN_TREE,
            name="secret-in-working-tree",
            description="A credential (API key, token, password, connection string) is written "
            "in a file of the working tree: source, configuration or notebook source.",
            severity=Severity.HIGH,
            cwe=("CWE-798", "CWE-312"),
            task_ids=(*SECRETS, HARD_CODED),
        ),
        Rule(
            id=ONLY_IN_HISTORY,
            name="secret-in-git-history",
            description="A credential was committed and later removed: it is no longer in the "
            "working tree but every clone's git history still holds it, so it must be rotated.",
            severity=Severity.HIGH,
            cwe=("CWE-798", "CWE-540"),
            task_ids=(*SECRETS, HARD_CODED),
        ),
        Rule(
            id=IN_NOTEBOOK_OUTPUT,
            name="secret-in-notebook-output",
            description="A credential appears in the saved output of a notebook cell (printed, "
            "echoed by a shell command, or shown in a traceback).",
            severity=Severity.HIGH,
            cwe=("CWE-312", "CWE-532"),
            task_ids=SECRETS,
        ),
        Rule(
            id=IN_MODEL_METADATA,
            name="secret-in-model-metadata",
            description="A credential appears in a model's metadata (safetensors __metadata__, "
            "GGUF key-values, ONNX metadata_props or doc_string, a Keras archive's config, "
            "config.json / generation_config.json) and ships with every copy of the model.",
            severity=Severity.HIGH,
            cwe=("CWE-798", "CWE-312"),
            task_ids=SECRETS,
        ),
        Rule(
            id=PRIVATE_KEY_FILE,
            name="private-key-in-tree",
            description="A private key (PEM, OpenSSH, PGP) is stored in the working tree.",
            severity=Severity.CRITICAL,
            cwe=("CWE-321", "CWE-312"),
            task_ids=(*SECRETS, HARD_CODED),
        ),
        Rule(
            id=NOT_SCANNED,
            name="file-not-scanned",
            description="A file could not be scanned for secrets (over the size limit, a "
            "malformed notebook or model header, a limit reached); it is not known to be clean.",
            severity=Severity.LOW,
            cwe=("CWE-20",),
            task_ids=("PO.5.1", "PO.5.1.R6"),
        ),
    )
}
