"""``ssdf init``: write a commented ``ssdf.toml`` that explains every section."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from ssdf_ai._io import atomic_write
from ssdf_ai._project import CONFIG_FILE
from ssdf_ai.config._load import LoadedConfig, load_config, validate_text
from ssdf_ai.config._model import OrganizationKind
from ssdf_ai.config._toml import toml_string, toml_value
from ssdf_ai.errors import InputError

# Folders that, when present, prefill [paths]; the first match of each kind wins its order.
_DETECT: dict[str, tuple[str, ...]] = {
    "models": ("models", "checkpoints", "weights", "third_party"),
    "datasets": ("data", "datasets"),
    "code": ("src", "pipelines", "notebooks", "config", "configs"),
}


@dataclasses.dataclass(frozen=True)
class InitResult:
    """What ``ssdf init`` wrote.

    Attributes:
        path: The configuration file written.
        loaded: The written configuration, validated.
        detected: Folders found in the project for each of ``[paths]``.
        overwritten: Whether an existing file was replaced (``--force``).
    """

    path: Path
    loaded: LoadedConfig
    detected: dict[str, tuple[str, ...]]
    overwritten: bool


def detect_paths(root: Path) -> dict[str, tuple[str, ...]]:
    """Find the usual folders for models, datasets and code in a project.

    Args:
        root: The project root.

    Returns:
        For each of ``models``, ``datasets`` and ``code``, the folders found (possibly none).
        Python files at the top level count as code (``*.py``).
    """
    found: dict[str, tuple[str, ...]] = {}
    for kind, names in _DETECT.items():
        found[kind] = tuple(name for name in names if (root / name).is_dir())
    if any(root.glob("*.py")):
        found["code"] = (*found["code"], "*.py")
    return found


def render_config(
    name: str,
    kind: OrganizationKind,
    detected: dict[str, tuple[str, ...]],
    *,
    today: dt.date,
) -> str:
    """Return the text of a commented ``ssdf.toml``.

    Args:
        name: The project's name.
        kind: The kind of organisation.
        detected: Folders found for each of ``[paths]``; an empty entry becomes ``"."``.
        today: The date written as each role's last review.

    Returns:
        The TOML document.
    """

    def paths(key: str) -> str:
        return toml_value(list(detected.get(key) or (".",)))

    day = today.isoformat()
    # For a comment line: TOML comments may hold no line breaks or control characters.
    title = " ".join("".join(c if c.isprintable() else " " for c in name).split())
    if kind is OrganizationKind.AI_MODEL_PRODUCER:
        responsibility = (
            '# This project trains its own models, so every task is its own ("self"). When a\n'
            "# base model comes from a provider who verifies and signs it, you might write:\n"
            '# "PS.2.1" = "model-provider"\n'
            '"PW.4.4" = "self"  # verifying acquired components, models included, stays here\n'
        )
    elif kind is OrganizationKind.AI_SYSTEM_PRODUCER:
        responsibility = (
            "# The models this system uses come from a model producer, who trains, protects\n"
            "# and signs them; verifying what arrives (PW.4.4) stays with this project.\n"
            '"PW.3" = "model-provider"    # training data integrity and provenance\n'
            '"PS.1.3" = "model-provider"  # protecting the model weights at the source\n'
            '"PS.2.1" = "model-provider"  # publishing integrity information for the model\n'
            '"PW.4.4" = "self"\n'
        )
    else:
        responsibility = (
            "# An acquirer depends on its suppliers for most development tasks, and verifies\n"
            "# what it receives (PW.4.4) itself.\n"
            '"PW.3" = "model-provider"\n'
            '"PW.5" = "model-provider"\n'
            '"PS.2.1" = "model-provider"\n'
            '"PW.4.4" = "self"\n'
        )
    # S608 is a false positive: this is TOML, and every value in it is quoted by toml_string.
    return f"""\
# ssdf.toml: the ssdf-ai configuration of {title}.
#
# Check it with `ssdf config validate`; `ssdf config show` prints every effective setting,
# defaults included. Ids such as PO.2.1 are tasks of NIST SP 800-218A, the SSDF community
# profile for generative AI and dual-use foundation model development; `ssdf profile show
# PO.2.1` prints one. Settings left out take the strictest sensible default (PW.9.1), and a
# setting that weakens a check is named unsafe_... and is reported as a warning.

# What the project is and who runs it. kind decides which tasks are the project's own:
#   ai-model-producer   trains or fine-tunes models
#   ai-system-producer  builds a system around models produced by others
#   acquirer            acquires AI models or systems and judges them
[project]
name = {toml_string(name)}
kind = {toml_string(kind.value)}

# Where things are, relative to this file. Each entry is a file, a directory (everything under
# it) or a glob ("**" matches any depth); paths may not leave the project. "." is the whole
# project, the default: what is not listed elsewhere is still checked (fail closed).
#   models    model files and weights: scanned, hashed, signed (PW.4.1, PW.4.4, PS.1.3, PS.2.1)
#   datasets  training, testing, fine-tuning and aligning data (PS.1.2, PW.3.1, PW.3.2)
#   code      source, pipelines and configuration-as-code (PS.1.1, PW.5.1, PW.7.2)
[paths]
models = {paths("models")}
datasets = {paths("datasets")}
code = {paths("code")}

# Roles and responsibilities (PO.2.1, PO.2.2). PO.2.1.R1: roles must include AI model
# development, AI model operations and data science; covers says which of these areas a role
# takes on. responsibilities lists practice ids (PW.4) or task ids (PW.4.4). reviewed is the
# date of the role's last review; one older than review_interval_days (default 365) is
# reported as overdue (PO.2.1: periodically review and maintain roles). Replace the holders
# with your own people or teams.
[[roles]]
name = "ML engineering"
holders = ["ml-engineering-team"]
responsibilities = ["PO.1", "PW.1", "PW.2", "PW.4", "PW.5", "PW.7", "PW.8"]
covers = ["ai-model-development"]
reviewed = {day}

[[roles]]
name = "MLOps"
holders = ["mlops-team"]
responsibilities = ["PO.3", "PO.5", "PS.1", "PS.2", "PS.3", "PW.6", "PW.9", "RV.1", "RV.2"]
covers = ["ai-model-operations"]
reviewed = {day}

[[roles]]
name = "Data science"
holders = ["data-science-team"]
responsibilities = ["PW.3", "PS.1.2", "RV.3"]
covers = ["data-science"]
reviewed = {day}

# Shared responsibility (PO.2.1.N1): tasks or practices that another party performs for this
# project, as "ID" = "party". "self" is this organisation; a task not listed here is its own.
[responsibility]
{responsibility}
# Security requirements (PO.1.1 for infrastructure and processes, PO.1.2 for the software,
# PO.1.3 for third parties). source is law, regulation, contract, standard, policy,
# business-objective or risk-management; reference names the document. covers_ai says the
# requirement addresses AI model development (PO.1.1.R1); applies_to is internal and/or
# third-party (communicated to suppliers, PO.1.3); tasks lists the ids it bears on.
[[requirements]]
id = "REQ-001"
text = "Model files are loaded only in formats that cannot run code, and are scanned first."
source = "policy"
reference = "Secure AI development policy"
covers_ai = true
applies_to = ["internal", "third-party"]
tasks = ["PW.4.1", "PW.4.4"]

[[requirements]]
id = "REQ-002"
text = "The provenance of all training data is recorded; training data is protected."
source = "standard"
reference = "NIST SP 800-218A, PW.3.2 and PS.1.2"
covers_ai = true
applies_to = ["internal"]
tasks = ["PW.3.2", "PS.1.2"]

# Criteria for security checks (PO.4.1). The values below are the defaults.
[checks]
# Findings at or above this severity fail (exit code 1): info, low, medium, high, critical.
fail_on = "low"
# Control ids that must be satisfied for an assessment to pass.
required_controls = []
# Severities or rule ids (such as SSDF-SCAN-001) whose waiver needs a human approver (PO.4.1.C1).
require_approval_for = ["high", "critical"]
# Roles whose holders may approve such waivers. Empty means nobody can (fail closed).
approver_roles = []
# Task priorities whose tasks fail `ssdf gate` unless evidence or a current attestation
# satisfies them (High, Medium, Low). The default is all of them.
require_evidence_for = ["High", "Medium", "Low"]
# Unsafe switches, off by default; each one is reported as a warning when on:
# unsafe_allow_unscanned = false        # files that could not be scanned would pass
# unsafe_accept_stale_evidence = false  # evidence older than max_age_days would count

[checks.evidence]
# Evidence older than this is stale and must be produced again (PO.4.2).
max_age_days = 90

# Trusted signers of attestations, waivers and approvals (people who hold a role above), and of
# assessments imported from other parties. `ssdf keys generate` writes a key pair.
# [[signers]]
# name = "Jane Doe"
# public_key = "keys/jane-doe.pub"

# Sensitive training data (PS.3.2 R2): a model made from data registered as sensitive
# (`ssdf data register --sensitive pii`) must carry the access restriction of each category;
# `ssdf record` writes it into the run's provenance. default_restriction covers the rest.
# [data]
# default_restriction = "restricted: no release without review by the data owner"
# [data.restrictions]
# pii = "restricted: ML team only; no public release"

# The project's models and why each was chosen (PS.3.1 R2): what it is for, its limits, and
# the base model it was fine-tuned from.
# [[models]]
# path = "models/churn.skops"
# name = "churn classifier"
# justification = "Gradient boosting: accurate on tabular data and explainable"
# intended_use = "Rank customers by churn risk for retention offers"
# limitations = "Not validated for customers outside the EU"
# base_model = "hf://org/base-model"
# license = "Apache-2.0"

# The evidence store (PO.3.3, PS.3.1). Unset: a SQLite file under .ssdf/ in the project.
# Keep credentials out of this file.
[store]
# url = "postgresql+psycopg://ssdf@db.example.org/ssdf"
"""  # noqa: S608


def init_config(
    root: Path,
    *,
    name: str | None = None,
    kind: OrganizationKind = OrganizationKind.AI_MODEL_PRODUCER,
    force: bool = False,
    today: dt.date | None = None,
) -> InitResult:
    """Write a commented ``ssdf.toml`` into ``root`` (atomically).

    Args:
        root: The project directory; it must exist.
        name: The project's name; defaults to the directory's name.
        kind: The kind of organisation.
        force: Replace an existing ``ssdf.toml``.
        today: The date written as each role's last review; defaults to today.

    Returns:
        What was written.

    Raises:
        InputError: If ``root`` is not a directory, or ``ssdf.toml`` exists and ``force`` is
            false.
        ConfigError: If the generated file does not validate (a bug).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(
            f"{root} is not a directory", where=root, hint="create it first, or pass another path"
        )
    target = root / CONFIG_FILE
    existed = target.exists()
    if existed and not force:
        raise InputError(
            f"{target} already exists",
            where=target,
            hint="edit it and run `ssdf config validate`, or pass --force to replace it",
        )
    day = today or dt.date.today()
    detected = detect_paths(root)
    text = render_config(name or root.resolve().name or "project", kind, detected, today=day)
    validate_text(text, target, pyproject=False, today=day)  # never write an invalid file
    atomic_write(target, text)
    # Loaded again from the project, so that warnings such as a shadowed [tool.ssdf] show.
    loaded = load_config(root, today=day)
    return InitResult(path=target, loaded=loaded, detected=detected, overwritten=existed)
