"""The code rules' metadata: ids, names, CWEs, severities, fixes and SP 800-218A task ids.

Every finding ``ssdf code`` reports uses one of these rules; SARIF output and
``docs/code-rules.md`` take their metadata from here. :data:`REMEDIATION` holds each rule's
documented fix (the findings' ``remediation``).
"""

from __future__ import annotations

from ssdf_ai.findings import Rule, Severity

# PW.5.1: secure coding practices extended to AI (R1-R3: handle model inputs and outputs with
# care, encode and validate them); PW.7.1 / PW.7.2: review and analyse code, AI model code
# included.
REVIEW = ("PW.5.1", "PW.5.1.R1", "PW.5.1.R2", "PW.5.1.R3", "PW.7.1", "PW.7.2")
# Hard-coded credentials also bear on protecting secrets (PO.5.1 R6, PO.5.3).
SECRETS = (*REVIEW, "PO.5.1.R6")

TORCH_LOAD = "SSDF-CODE-001"
UNSAFE_DESERIALIZATION = "SSDF-CODE-002"
TRUST_REMOTE_CODE = "SSDF-CODE-003"
UNPINNED_DOWNLOAD = "SSDF-CODE-004"
UNSAFE_YAML = "SSDF-CODE-005"
MODEL_OUTPUT_SINK = "SSDF-CODE-006"
SYSTEM_PROMPT_INJECTION = "SSDF-CODE-007"
AGENT_CODE_EXECUTION = "SSDF-CODE-008"
TLS_DISABLED = "SSDF-CODE-009"
HARDCODED_SECRET = "SSDF-CODE-010"  # noqa: S105 - a rule id, not a password
NOT_ANALYSED = "SSDF-CODE-011"
BARE_SUPPRESSION = "SSDF-CODE-012"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=TORCH_LOAD,
            name="torch-load-without-weights-only",
            description="torch.load without weights_only=True unpickles the checkpoint: a "
            "malicious file runs code when it is loaded.",
            severity=Severity.HIGH,
            cwe=("CWE-502",),
            task_ids=REVIEW,
        ),
        Rule(
            id=UNSAFE_DESERIALIZATION,
            name="unsafe-deserialization",
            description="pickle, joblib, dill, cloudpickle, pandas.read_pickle or numpy.load "
            "with allow_pickle=True reads data that is not a constant path inside the project: "
            "unpickling untrusted data runs code.",
            severity=Severity.HIGH,
            cwe=("CWE-502",),
            task_ids=REVIEW,
        ),
        Rule(
            id=TRUST_REMOTE_CODE,
            name="trust-remote-code",
            description="trust_remote_code=True runs Python code downloaded with the model or "
            "dataset.",
            severity=Severity.HIGH,
            cwe=("CWE-94", "CWE-829"),
            task_ids=REVIEW,
        ),
        Rule(
            id=UNPINNED_DOWNLOAD,
            name="unpinned-hub-download",
            description="A model or dataset is downloaded from a hub without revision= pinned "
            "to a commit: the repository's owner (or whoever takes it over) can change what is "
            "loaded.",
            severity=Severity.MEDIUM,
            cwe=("CWE-494", "CWE-829"),
            task_ids=REVIEW,
        ),
        Rule(
            id=UNSAFE_YAML,
            name="unsafe-yaml-load",
            description="yaml.load with a loader that can build arbitrary Python objects.",
            severity=Severity.HIGH,
            cwe=("CWE-502", "CWE-20"),
            task_ids=REVIEW,
        ),
        Rule(
            id=MODEL_OUTPUT_SINK,
            name="model-output-to-dangerous-sink",
            description="Model output reaches code evaluation, a shell or process, an SQL "
            "string, a file path or HTML without being escaped: whoever steers the model "
            "(prompt injection) steers that sink.",
            severity=Severity.HIGH,
            cwe=("CWE-94", "CWE-78", "CWE-89", "CWE-22", "CWE-79", "CWE-1426"),
            task_ids=REVIEW,
        ),
        Rule(
            id=SYSTEM_PROMPT_INJECTION,
            name="untrusted-input-in-system-prompt",
            description="Untrusted input (user input, command-line arguments, request data, "
            "route parameters) is built into a system prompt, where it carries the authority "
            "of the application's own instructions.",
            severity=Severity.MEDIUM,
            cwe=("CWE-1427", "CWE-74"),
            task_ids=REVIEW,
        ),
        Rule(
            id=AGENT_CODE_EXECUTION,
            name="agent-tool-executes-code",
            description="An agent is given a tool that runs Python or shell commands on the "
            "host, or local code execution is enabled without a sandbox.",
            severity=Severity.HIGH,
            cwe=("CWE-94", "CWE-78", "CWE-250"),
            task_ids=REVIEW,
        ),
        Rule(
            id=TLS_DISABLED,
            name="tls-verification-disabled",
            description="TLS certificate or host name verification is turned off, so downloads "
            "of models, data and API responses can be intercepted and replaced.",
            severity=Severity.HIGH,
            cwe=("CWE-295",),
            task_ids=REVIEW,
        ),
        Rule(
            id=HARDCODED_SECRET,
            name="hard-coded-secret",
            description="A credential (API key, access token, password) is written in the "
            "source or a notebook's saved output.",
            severity=Severity.HIGH,
            cwe=("CWE-798",),
            task_ids=SECRETS,
        ),
        Rule(
            id=NOT_ANALYSED,
            name="file-not-analysed",
            description="A source file or notebook could not be parsed (a syntax error, too "
            "large, nested too deeply); it was not checked.",
            severity=Severity.MEDIUM,
            cwe=("CWE-20",),
            task_ids=REVIEW,
        ),
        Rule(
            id=BARE_SUPPRESSION,
            name="suppression-without-justification",
            description="An `# ssdf: ignore[...]` comment gives no justification, so it does "
            "not suppress anything.",
            severity=Severity.LOW,
            task_ids=("PW.7.2",),
        ),
    )
}

REMEDIATION: dict[str, str] = {
    TORCH_LOAD: "Pass weights_only=True (the default from PyTorch 2.6), or store weights as "
    "safetensors and load them with safetensors.torch.load_file.",
    UNSAFE_DESERIALIZATION: "Do not unpickle data you did not produce: use safetensors, JSON, "
    "Parquet or numpy.load(allow_pickle=False); if a pickle is unavoidable, verify its digest "
    "or signature first (ssdf integrity) and scan it (ssdf scan).",
    TRUST_REMOTE_CODE: "Remove trust_remote_code=True; if the model needs custom code, vendor "
    "the reviewed code into the project, or pin revision= to a reviewed commit.",
    UNPINNED_DOWNLOAD: 'Pin revision="<40-hex commit sha>" to the commit you reviewed (a branch '
    'or tag such as "main" can move).',
    UNSAFE_YAML: "Use yaml.safe_load, or yaml.load(..., Loader=yaml.SafeLoader).",
    MODEL_OUTPUT_SINK: "Treat model output as untrusted input: never eval it or run it in a "
    "shell; use parameterised SQL; escape it for HTML (html.escape, markupsafe.escape); "
    "quote it for a shell (shlex.quote); validate paths against an allow-list.",
    SYSTEM_PROMPT_INJECTION: "Keep the system prompt constant; pass untrusted text in a user "
    "message, clearly delimited, and validate it.",
    AGENT_CODE_EXECUTION: "Run agent code in a sandbox (a container, use_docker=True, a remote "
    "executor) with no secrets and no network, or drop the tool; require human approval for "
    "shell and code tools.",
    TLS_DISABLED: "Keep certificate verification on; to trust a private CA, pass its bundle "
    "(verify='/path/ca.pem', REQUESTS_CA_BUNDLE) instead of disabling checks.",
    HARDCODED_SECRET: "Remove the secret, rotate it, and read it from the environment or a "
    "secret manager; clear notebook outputs before committing.",
    NOT_ANALYSED: "Fix the syntax error (or split the file) so that it can be checked; a file "
    "that cannot be parsed is not known to be safe.",
    BARE_SUPPRESSION: "Say why the finding is acceptable after the bracket: "
    "`# ssdf: ignore[SSDF-CODE-001] weights come from our signed registry`.",
}
