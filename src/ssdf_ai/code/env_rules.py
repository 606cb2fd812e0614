"""The environment checks' rules: ids, severities, CWEs, SP 800-218A items and remediation.

Every finding ``ssdf env`` reports uses one of these rules; SARIF output and ``docs/env.md``
take their metadata from here. :data:`REMEDIATION` says what to do, per rule.
"""

from __future__ import annotations

from ssdf_ai.findings import Rule, Severity

# PO.5.1 R2/R3/R5: sensitive data only in approved places, least privilege for pipelines and
# registries, securely configured environments; PO.5.2: hardened development endpoints;
# PS.1.1 R1/R2/R4: least-privilege storage of code, models and weights; PS.1.3.R3: least
# privilege on weights. (Item ids as the catalog numbers them: reward models kept apart is
# PS.1.1.R3, weights kept apart from data is PS.1.3.R1.)
PERMISSIONS = ("PO.5.1", "PO.5.1.R3", "PO.5.2", "PS.1.1", "PS.1.1.R2", "PS.1.3", "PS.1.3.R3")
SECRETS = ("PO.5.1", "PO.5.1.R2", "PO.5.1.R6", "PS.1.1", "PS.1.1.R1")
WEIGHTS_IN_GIT = ("PS.1.1", "PS.1.1.R1", "PS.1.1.R4", "PS.1.3", "PS.1.3.R3")
REWARD_APART = ("PS.1.1", "PS.1.1.R3")
WEIGHTS_APART = ("PS.1.3", "PS.1.3.R1")
TOOLCHAIN = ("PO.3.2", "PO.3.2.R2", "PO.5.1", "PO.5.1.R3", "PO.5.1.R5")

KEY_PERMISSIONS = "SSDF-ENV-001"
MODEL_PERMISSIONS = "SSDF-ENV-002"
DATA_PERMISSIONS = "SSDF-ENV-003"
FOLDER_PERMISSIONS = "SSDF-ENV-004"
SECRET_COMMITTED = "SSDF-ENV-005"  # noqa: S105 - a rule id, not a password
WEIGHTS_COMMITTED = "SSDF-ENV-006"
ENV_NOT_IGNORED = "SSDF-ENV-007"
REWARD_BESIDE = "SSDF-ENV-008"
WEIGHTS_IN_DATA = "SSDF-ENV-009"
DATA_IN_MODELS = "SSDF-ENV-010"
WORKFLOW_UNCHECKED = "SSDF-ENV-011"
UNPINNED_ACTION = "SSDF-ENV-012"
TOKEN_PERMISSIONS = "SSDF-ENV-013"  # noqa: S105 - a rule id, not a password
UNTRUSTED_CHECKOUT = "SSDF-ENV-014"
PRIVILEGED_TRIGGER = "SSDF-ENV-015"
SECRET_LEAK = "SSDF-ENV-016"  # noqa: S105 - a rule id, not a password
UNSECURE_COMMANDS = "SSDF-ENV-017"
SCRIPT_INJECTION = "SSDF-ENV-018"
READABLE_BY_ALL = "SSDF-ENV-019"

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            id=KEY_PERMISSIONS,
            name="key-file-permissions",
            description="A private key or credentials file is readable by every user, or "
            "writable by other users (who could replace it).",
            severity=Severity.HIGH,
            cwe=("CWE-732",),
            task_ids=PERMISSIONS,
        ),
        Rule(
            id=MODEL_PERMISSIONS,
            name="model-file-permissions",
            description="Model weights are writable by other users: anyone who can write them "
            "can swap or poison the model (high when world-writable, medium when "
            "group-writable).",
            severity=Severity.HIGH,
            cwe=("CWE-732",),
            task_ids=PERMISSIONS,
        ),
        Rule(
            id=DATA_PERMISSIONS,
            name="data-file-permissions",
            description="A dataset file is writable by other users, who could poison it (high "
            "when world-writable, medium when group-writable).",
            severity=Severity.HIGH,
            cwe=("CWE-732",),
            task_ids=PERMISSIONS,
        ),
        Rule(
            id=FOLDER_PERMISSIONS,
            name="folder-permissions",
            description="A folder holding weights, data or keys is world-writable: anyone can "
            "add, rename or replace the files in it (medium with the sticky bit set).",
            severity=Severity.HIGH,
            cwe=("CWE-732",),
            task_ids=PERMISSIONS,
        ),
        Rule(
            id=SECRET_COMMITTED,
            name="secret-committed",
            description="A private key or a credentials file (.env, .netrc, credentials, "
            "service-account JSON) is tracked by git: everyone with the repository has it, "
            "and it stays in the history.",
            severity=Severity.HIGH,
            cwe=("CWE-538", "CWE-312"),
            task_ids=SECRETS,
        ),
        Rule(
            id=WEIGHTS_COMMITTED,
            name="weights-committed",
            description="Model weights are committed to git: they belong in a model registry "
            "or Git LFS with access control, not in every clone of the code.",
            severity=Severity.MEDIUM,
            cwe=("CWE-538",),
            task_ids=WEIGHTS_IN_GIT,
        ),
        Rule(
            id=ENV_NOT_IGNORED,
            name="env-file-not-ignored",
            description="A .env file is present and not ignored by git: the next `git add .` "
            "commits its secrets.",
            severity=Severity.MEDIUM,
            cwe=("CWE-538",),
            task_ids=SECRETS,
        ),
        Rule(
            id=REWARD_BESIDE,
            name="reward-model-not-apart",
            description="A reward model is stored in the same folder as other model weights or "
            "inside a dataset folder; reward models are to be stored apart from models and "
            "data.",
            severity=Severity.MEDIUM,
            cwe=("CWE-732",),
            task_ids=REWARD_APART,
        ),
        Rule(
            id=WEIGHTS_IN_DATA,
            name="weights-in-data",
            description="Model weights are stored inside a dataset folder; weights and "
            "configuration are to be kept apart from training, testing, fine-tuning and "
            "aligning data.",
            severity=Severity.MEDIUM,
            task_ids=WEIGHTS_APART,
        ),
        Rule(
            id=DATA_IN_MODELS,
            name="data-in-model-folder",
            description="Data files are stored inside a model folder, so whoever may read or "
            "publish the model gets the data too.",
            severity=Severity.LOW,
            task_ids=WEIGHTS_APART,
        ),
        Rule(
            id=WORKFLOW_UNCHECKED,
            name="workflow-not-checked",
            description="A CI workflow could not be checked (malformed YAML, too large, too "
            "deeply nested or not a mapping); it is not known to be safe.",
            severity=Severity.MEDIUM,
            cwe=("CWE-20",),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=UNPINNED_ACTION,
            name="unpinned-action",
            description="A GitHub Action or reusable workflow is referenced by a tag or branch, "
            "which its owner (or an attacker holding its repository) can move; only a full "
            "commit SHA is immutable (Scorecard Pinned-Dependencies).",
            severity=Severity.MEDIUM,
            cwe=("CWE-829",),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=TOKEN_PERMISSIONS,
            name="token-permissions",
            description="The workflow's GITHUB_TOKEN permissions are not declared (so the "
            "repository default applies, often read-write), are write-all, or grant write "
            "access at the top level to every job (Scorecard Token-Permissions).",
            severity=Severity.MEDIUM,
            cwe=("CWE-250", "CWE-269"),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=UNTRUSTED_CHECKOUT,
            name="untrusted-checkout",
            description="A pull_request_target or workflow_run workflow checks out the pull "
            "request's code, and so runs untrusted code with the base repository's secrets "
            "and write token (Scorecard Dangerous-Workflow).",
            severity=Severity.HIGH,
            cwe=("CWE-829", "CWE-94"),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=PRIVILEGED_TRIGGER,
            name="privileged-trigger",
            description="A workflow runs on pull_request_target or workflow_run, with secrets "
            "and a write token, for events others can cause; no untrusted checkout was found, "
            "but every change to it needs care.",
            severity=Severity.LOW,
            cwe=("CWE-250",),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=SECRET_LEAK,
            name="secret-leak-in-workflow",
            description="A workflow step prints a secret, writes it to a file or to "
            "GITHUB_OUTPUT / GITHUB_ENV, or traces its commands (set -x) with secrets in "
            "reach; log masking misses transformed values and files outlive the job.",
            severity=Severity.HIGH,
            cwe=("CWE-532", "CWE-312"),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=UNSECURE_COMMANDS,
            name="unsecure-commands-allowed",
            description="ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables the deprecated set-env and "
            "add-path workflow commands, which let any text a step prints set environment "
            "variables (CVE-2020-15228).",
            severity=Severity.HIGH,
            cwe=("CWE-94",),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=SCRIPT_INJECTION,
            name="script-injection",
            description="Text an outsider controls (an issue or pull request title or body, a "
            "comment, a branch name, a commit message) is interpolated with ${{ }} straight "
            "into a script, where it runs as code (Scorecard Dangerous-Workflow).",
            severity=Severity.HIGH,
            cwe=("CWE-94", "CWE-78"),
            task_ids=TOOLCHAIN,
        ),
        Rule(
            id=READABLE_BY_ALL,
            name="weights-or-data-readable-by-all",
            description="Weights or dataset files are readable by every user on the host: "
            "right for an open model or public data, not for closed weights or sensitive data "
            "(a note, one per kind).",
            severity=Severity.INFO,
            cwe=("CWE-732",),
            task_ids=("PS.1.1", "PS.1.1.R2", "PS.1.3", "PS.1.3.R2"),
        ),
    )
}

REMEDIATION: dict[str, str] = {
    KEY_PERMISSIONS: "chmod 600 the file (owner read-write only); better, keep keys in a "
    "secrets manager and out of the project folder.",
    MODEL_PERMISSIONS: "chmod 644 (or 640) the weights, o-w and g-w; store released weights "
    "read-only in a model registry with access control.",
    DATA_PERMISSIONS: "chmod 644 (or 640) the data file, removing group and other write; "
    "keep datasets in a store that logs and restricts writes.",
    FOLDER_PERMISSIONS: "chmod o-w the folder (chmod 755 or 750).",
    READABLE_BY_ALL: "For closed weights or sensitive data: chmod 640 (or 600) and a group "
    "for the people who need them, or keep them in a registry or store with access control.",
    SECRET_COMMITTED: "Rotate the secret first (it is in the history), then `git rm --cached "
    "FILE`, add it to .gitignore and purge it from the history (git filter-repo).",
    WEIGHTS_COMMITTED: "Move the weights to a model registry, or track them with Git LFS "
    "(`git lfs track '*.safetensors'`, then `git rm --cached FILE` and add it again).",
    ENV_NOT_IGNORED: "Add `.env` (and `.env.*`, keeping `!.env.example`) to .gitignore.",
    REWARD_BESIDE: "Move the reward model to a folder (or registry) of its own, with its own "
    "access control, apart from the policy model and the data.",
    WEIGHTS_IN_DATA: "Move the weights out of the dataset folder into the model folder or "
    "registry.",
    DATA_IN_MODELS: "Move the data out of the model folder into the dataset store.",
    WORKFLOW_UNCHECKED: "Fix the YAML (a workflow GitHub cannot parse does not run either), "
    "or keep it under 1 MiB and 64 levels of nesting.",
    UNPINNED_ACTION: "Pin by the full commit SHA with the tag in a comment: "
    "`uses: actions/checkout@<40-hex sha> # v4.2.2`; let Dependabot or Renovate update it.",
    TOKEN_PERMISSIONS: "Set `permissions: contents: read` at the top of the workflow and grant "
    "writes only on the jobs that need them.",
    UNTRUSTED_CHECKOUT: "Use the pull_request trigger for building and testing pull requests; "
    "when a privileged follow-up is needed, pass artifacts to a workflow_run job that never "
    "checks out or runs the pull request's code.",
    PRIVILEGED_TRIGGER: "Prefer pull_request; if pull_request_target is needed, never check "
    "out or run the pull request's code and keep the token's permissions minimal.",
    SECRET_LEAK: "Pass secrets to the tool that needs them through env, never print them or "
    "write them to files or outputs, and do not use set -x in steps that can see them.",
    UNSECURE_COMMANDS: "Remove ACTIONS_ALLOW_UNSECURE_COMMANDS; write to $GITHUB_ENV and "
    "$GITHUB_PATH instead.",
    SCRIPT_INJECTION: "Pass the value through an environment variable (`env: TITLE: ${{ "
    'github.event.issue.title }}`) and use "$TITLE" in the script.',
}
