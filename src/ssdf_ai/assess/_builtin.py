"""The built-in controls: what today's evidence can answer.

Each control reads :class:`~ssdf_ai.assess._facts.Facts` and answers one question. Later
capabilities (scanning, signing, provenance, data checks) add their own controls here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ssdf_ai.assess.controls import Control, control
from ssdf_ai.assess.model import ControlResult, Effort, EvidenceLink
from ssdf_ai.findings import Outcome

if TYPE_CHECKING:
    from ssdf_ai.assess._facts import Facts

NO_CONFIG = "the project has no ssdf.toml (or [tool.ssdf] in pyproject.toml)"


def _config_link(facts: Facts, key: str, note: str | None = None) -> EvidenceLink:
    where = facts.loaded.path.name if facts.loaded.path else "defaults"
    return EvidenceLink(kind="config", ref=f"{where}#{key}", note=note)


def _no_config(this: Control) -> ControlResult:
    return this.result(Outcome.NOT_SATISFIED, NO_CONFIG + "; run `ssdf init`")


@control(
    "requirements-documented",
    title="Security requirements documented, covering AI",
    question="Does the project document its security requirements with their sources, "
    "including requirements for AI model development?",
    task_ids=("PO.1.1", "PO.1.2"),
    item_ids=("PO.1.1.R1", "PO.1.2.R1"),
    motivation="Requirements known at all times can be checked throughout the life cycle; "
    "SP 800-218A asks that they include AI model development, operations and data science.",
    remediation="Add [[requirements]] entries with source and reference to ssdf.toml, at least "
    "one with covers_ai = true; then `ssdf config validate`.",
    effort=Effort.LOW,
)
def requirements_documented(this: Control, facts: Facts) -> ControlResult:
    """Satisfied with a documented requirement covering AI; partial without one covering AI."""
    if not facts.loaded.from_file:
        return _no_config(this)
    requirements = facts.loaded.config.requirements
    if not requirements:
        return this.result(Outcome.NOT_SATISFIED, "no [[requirements]] are documented")
    ai = [r.id for r in requirements if r.covers_ai]
    link = _config_link(facts, "requirements", f"{len(requirements)} requirement(s)")
    if not ai:
        return this.result(
            Outcome.PARTIAL,
            f"{len(requirements)} requirement(s) documented, none covering AI model development",
            [link],
        )
    return this.result(
        Outcome.SATISFIED,
        f"{len(requirements)} requirement(s) with sources; covering AI: {', '.join(ai)}",
        [link],
    )


@control(
    "requirements-third-party",
    title="Requirements communicated to third parties cover AI",
    question="Are there security requirements for third-party components that include AI "
    "model development security?",
    task_ids=("PO.1.3",),
    item_ids=("PO.1.3.R1",),
    motivation="Models, datasets and code acquired from others must meet the organisation's "
    "requirements; they can only if the requirements are written down for them.",
    remediation='Add a [[requirements]] entry with applies_to = ["third-party"] and '
    "covers_ai = true to ssdf.toml.",
    effort=Effort.LOW,
)
def requirements_third_party(this: Control, facts: Facts) -> ControlResult:
    """Satisfied with a third-party requirement covering AI."""
    if not facts.loaded.from_file:
        return _no_config(this)
    third = [r for r in facts.loaded.config.requirements if "third-party" in r.applies_to]
    if not third:
        return this.result(
            Outcome.NOT_SATISFIED, "no requirement applies to third parties (applies_to)"
        )
    ai = [r.id for r in third if r.covers_ai]
    link = _config_link(facts, "requirements", ", ".join(r.id for r in third))
    if not ai:
        return this.result(
            Outcome.PARTIAL, "third-party requirements exist, none covering AI", [link]
        )
    return this.result(
        Outcome.SATISFIED, f"third-party requirements covering AI: {', '.join(ai)}", [link]
    )


AREAS = ("ai-model-development", "ai-model-operations", "data-science")


@control(
    "roles-defined",
    title="Roles cover AI model development, operations and data science, and are reviewed",
    question="Are roles defined with holders, covering AI model development, AI model "
    "operations and data science, each reviewed within its review interval?",
    task_ids=("PO.2.1",),
    item_ids=("PO.2.1.R1",),
    motivation="Everyone involved must know their responsibilities; SP 800-218A extends the "
    "roles to AI model development, operations and data science, reviewed periodically.",
    remediation="Add [[roles]] to ssdf.toml whose covers list all three areas, with holders "
    "and a reviewed date; review overdue roles and update their reviewed date.",
    effort=Effort.LOW,
)
def roles_defined(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when all areas are covered and no review is overdue."""
    if not facts.loaded.from_file:
        return _no_config(this)
    roles = facts.loaded.config.roles
    if not roles:
        return this.result(Outcome.NOT_SATISFIED, "no [[roles]] are defined")
    covered = {area.value for role in roles for area in role.covers}
    missing = [a for a in AREAS if a not in covered]
    today = facts.now.date()
    overdue = [f"{r.name} (due {r.review_due.isoformat()})" for r in roles if r.review_due < today]
    link = _config_link(facts, "roles", ", ".join(r.name for r in roles))
    if missing:
        return this.result(
            Outcome.PARTIAL,
            f"{len(roles)} role(s) defined; no role covers {', '.join(missing)}",
            [link],
        )
    if overdue:
        return this.result(
            Outcome.STALE, f"every area is covered, but reviews are overdue: {'; '.join(overdue)}"
        )
    return this.result(
        Outcome.SATISFIED,
        f"{len(roles)} role(s) cover {', '.join(AREAS)}; every review is current",
        [link],
    )


@control(
    "toolchain-declared",
    title="Toolchain declared and in use",
    question="Does the project declare its security toolchain (ssdf.toml with the paths of its "
    "models, data and code) and record the toolchain's results in an evidence store?",
    task_ids=("PO.3.1", "PO.3.2"),
    item_ids=("PO.3.1.R1", "PO.3.2.R1"),
    motivation="SP 800-218A asks for automated toolchains that do most of the work of "
    "securing AI model development; a declared, used toolchain is the first step.",
    remediation="Run `ssdf init`, set [paths] for models, datasets and code, and record "
    "evidence (e.g. `ssdf evidence add`, `ssdf assess`).",
    effort=Effort.LOW,
)
def toolchain_declared(this: Control, facts: Facts) -> ControlResult:
    """Satisfied with a config file and at least one finished run in the store."""
    has_config = facts.loaded.from_file
    finished = [r for r in facts.runs if r.finished_at is not None]
    links = []
    if has_config:
        links.append(_config_link(facts, "paths", "models, datasets and code declared"))
    if finished:
        newest = finished[0]
        links.append(
            EvidenceLink(
                kind="run",
                ref=f"run:{newest.id}",
                note=f"{len(finished)} finished run(s); newest: {newest.command}",
                observed_at=newest.finished_at,
            )
        )
    if has_config and finished:
        return this.result(
            Outcome.SATISFIED,
            f"declared in {facts.loaded.source}; {len(finished)} run(s) recorded",
            links,
        )
    if has_config or finished:
        missing = "no evidence has been recorded" if has_config else NO_CONFIG
        return this.result(Outcome.PARTIAL, missing, links)
    return this.result(Outcome.NOT_SATISFIED, f"{NO_CONFIG}, and no evidence store")


@control(
    "check-criteria-defined",
    title="Criteria for security checks defined, with a human in the loop",
    question="Are the criteria for security checks set (severity threshold, results that need "
    "approval) and is some role allowed to approve?",
    task_ids=("PO.4.1",),
    item_ids=("PO.4.1.R1", "PO.4.1.C1"),
    motivation="Checks only mean something against defined criteria; SP 800-218A suggests "
    "human approval for results beyond risk-based thresholds.",
    remediation="Set [checks] fail_on, require_approval_for and approver_roles in ssdf.toml.",
    effort=Effort.LOW,
)
def check_criteria_defined(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when criteria are set and approvals are possible; partial without approvers."""
    if not facts.loaded.from_file:
        return _no_config(this)
    checks = facts.loaded.config.checks
    link = _config_link(
        facts,
        "checks",
        f"fail_on={checks.fail_on.value}; approval for "
        f"{', '.join(checks.require_approval_for) or 'nothing'}",
    )
    unsafe = [name for name in type(checks).model_fields if name.startswith("unsafe_")]
    on = [name for name in unsafe if getattr(checks, name)]
    if not checks.require_approval_for:
        return this.result(
            Outcome.PARTIAL,
            "no result needs human approval (require_approval_for is empty)",
            [link],
        )
    if not checks.approver_roles:
        return this.result(
            Outcome.PARTIAL,
            "results need approval, but no role may approve (checks.approver_roles is empty)",
            [link],
        )
    if on:
        return this.result(
            Outcome.PARTIAL,
            f"criteria defined, but unsafe switches are on: {', '.join(on)}",
            [link],
        )
    return this.result(
        Outcome.SATISFIED,
        f"fail on {checks.fail_on.value} or worse; approvers: {', '.join(checks.approver_roles)}",
        [link],
    )


@control(
    "check-results-kept",
    title="Results of security checks are kept",
    question="Does the evidence store hold the results of security checks (runs with exit "
    "codes, and their artifacts), readable and intact?",
    task_ids=("PO.4.2",),
    motivation="Criteria are only useful if the information needed to check them is gathered "
    "and safeguarded.",
    remediation="Record results in the evidence store (every ssdf command does); check it with "
    "`ssdf evidence verify`.",
    effort=Effort.LOW,
)
def check_results_kept(this: Control, facts: Facts) -> ControlResult:
    """Satisfied with finished runs and artifacts in a readable store."""
    if facts.store_error:
        return this.result(
            Outcome.UNKNOWN, f"the evidence store cannot be read: {facts.store_error}"
        )
    if not facts.store_present:
        return this.result(Outcome.NOT_SATISFIED, "the project has no evidence store (.ssdf/)")
    finished = [r for r in facts.runs if r.exit_code is not None]
    if not finished:
        return this.result(Outcome.NOT_SATISFIED, "the evidence store holds no finished run")
    links = [
        EvidenceLink(
            kind="run",
            ref=f"run:{finished[0].id}",
            note=f"{len(finished)} run(s) with exit codes, {len(facts.artifacts)} artifact(s)",
            observed_at=finished[0].finished_at,
        )
    ]
    if not facts.artifacts:
        return this.result(Outcome.PARTIAL, "runs are recorded, but no artifact", links)
    return this.result(
        Outcome.SATISFIED,
        f"{len(finished)} run(s) and {len(facts.artifacts)} artifact(s) are kept",
        links,
    )


_REPORT_CHANNEL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|https?://\S+|security advisor", re.I)
_AI_WORDS = re.compile(r"\b(models?|AI|machine learning|ML)\b")
_LIMITATIONS = re.compile(r"limitation", re.I)
SECURITY_POLICY_PATHS = ("SECURITY.md", ".github/SECURITY.md", "docs/SECURITY.md")


@control(
    "vulnerability-disclosure",
    title="Vulnerability disclosure policy covers AI models; users know limitations",
    question="Is there a SECURITY.md that covers AI model vulnerabilities and says how to "
    "report, and do the model cards tell users the models' limitations?",
    task_ids=("RV.1.3",),
    item_ids=("RV.1.3.R1", "RV.1.3.R2"),
    motivation="People who find a problem in a model need to know how to report it, and users "
    "need to know a model's inherent limitations.",
    remediation="Add SECURITY.md covering the models with a reporting address, and a "
    "'Limitations' section to each model card (README.md beside the model).",
    effort=Effort.LOW,
)
def vulnerability_disclosure(this: Control, facts: Facts) -> ControlResult:
    """Checks SECURITY.md for AI coverage and a report channel, and model cards for limitations."""
    policy = facts.first_file(*SECURITY_POLICY_PATHS)
    gaps: list[str] = []
    links: list[EvidenceLink] = []
    if policy is None:
        gaps.append("no SECURITY.md")
    else:
        text = facts.read_text(policy) or ""
        links.append(EvidenceLink(kind="file", ref=facts.relative(policy)))
        if not _AI_WORDS.search(text):
            gaps.append(f"{facts.relative(policy)} does not mention AI models")
        if not _REPORT_CHANNEL.search(text):
            gaps.append(f"{facts.relative(policy)} gives no address or link to report to")
    cards = facts.model_cards()
    without = []
    for card in cards:
        links.append(EvidenceLink(kind="file", ref=facts.relative(card), note="model card"))
        if not _LIMITATIONS.search(facts.read_text(card) or ""):
            without.append(facts.relative(card))
    policy_limits = policy is not None and _LIMITATIONS.search(facts.read_text(policy) or "")
    if not cards and not policy_limits:
        gaps.append("no model card or policy states the models' limitations")
    if without:
        gaps.append(f"model cards without limitations: {', '.join(without)}")
    if not gaps:
        return this.result(
            Outcome.SATISFIED,
            "SECURITY.md covers AI models with a reporting channel; "
            f"{len(cards)} model card(s) state limitations",
            links,
        )
    outcome = Outcome.NOT_SATISFIED if policy is None else Outcome.PARTIAL
    return this.result(outcome, "; ".join(gaps), links)


CODEOWNERS_PATHS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


def _owned(pattern: str, owners: list[str]) -> bool:
    """Whether a configured path is covered by a CODEOWNERS pattern (prefix match)."""
    target = "/" + pattern.strip("/").removeprefix("./")
    for rule in owners:
        rule_path = rule if rule.startswith("/") else "/" + rule
        rule_path = rule_path.rstrip("/")
        if rule in ("*", "/*", "**", "/**") or target == rule_path:
            return True
        if target.startswith(rule_path + "/") or rule_path.startswith(target + "/"):
            return True
    return False


@control(
    "code-owners",
    title="Owners assigned to model, data and pipeline paths",
    question="Does a CODEOWNERS file assign owners to every configured model, dataset and code "
    "path?",
    task_ids=("PS.1.1",),
    item_ids=("PS.1.1.R1",),
    motivation="Changes to models, training data and pipelines should need review by the "
    "people responsible for them (least privilege, protected code and data).",
    remediation="Add a CODEOWNERS file with owners for every path in [paths] (models, datasets, "
    "code) and require code-owner review on the default branch.",
    effort=Effort.LOW,
)
def code_owners(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when every configured path has an owner."""
    found = facts.first_file(*CODEOWNERS_PATHS)
    if found is None:
        return this.result(Outcome.NOT_SATISFIED, "no CODEOWNERS file")
    rules = []
    for line in (facts.read_text(found) or "").splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2:
            rules.append(parts[0])
    paths = facts.loaded.config.paths
    wanted = {*paths.models, *paths.datasets, *paths.code}
    link = EvidenceLink(kind="file", ref=facts.relative(found), note=f"{len(rules)} rule(s)")
    unowned = sorted(p for p in wanted if not _owned(p, rules))
    if not rules:
        return this.result(Outcome.NOT_SATISFIED, f"{link.ref} assigns no owners", [link])
    if unowned:
        return this.result(Outcome.PARTIAL, f"paths without an owner: {', '.join(unowned)}", [link])
    return this.result(
        Outcome.SATISFIED, f"every configured path ({len(wanted)}) has an owner", [link]
    )


SELF_EVIDENCE = frozenset({"assessment", "assessment-envelope"})


@control(
    "evidence-fresh",
    title="Evidence is fresh",
    question="Was evidence recorded within the configured maximum age "
    "(checks.evidence.max_age_days)?",
    task_ids=("PO.3.3", "PO.4.2"),
    item_ids=("PO.3.3.N1",),
    motivation="Evidence about a model or dataset that has changed since says little; old "
    "evidence must be produced again.",
    remediation="Run the checks again (e.g. `ssdf assess`) so that new evidence is recorded.",
    effort=Effort.LOW,
)
def evidence_fresh(this: Control, facts: Facts) -> ControlResult:
    """Satisfied when the newest artifact is younger than the maximum age."""
    if facts.store_error:
        return this.result(
            Outcome.UNKNOWN, f"the evidence store cannot be read: {facts.store_error}"
        )
    # An assessment is not evidence about the project: re-assessing must not keep it fresh.
    produced = [a for a in facts.artifacts if a.kind not in SELF_EVIDENCE]
    if not produced:
        return this.result(Outcome.NOT_SATISFIED, "no evidence has been recorded")
    newest = max(produced, key=lambda a: a.created_at)
    link = EvidenceLink(
        kind="artifact",
        ref=f"sha256:{newest.digest}",
        note=f"newest evidence: {newest.kind}",
        observed_at=newest.created_at,
    )
    days = facts.loaded.config.checks.evidence.max_age_days
    if facts.is_stale(newest.created_at):
        if facts.loaded.config.checks.unsafe_accept_stale_evidence:
            return this.result(
                Outcome.SATISFIED,
                f"the newest evidence is older than {days} days, accepted because "
                "checks.unsafe_accept_stale_evidence is on",
                [link],
            )
        return this.result(Outcome.STALE, f"the newest evidence is older than {days} days", [link])
    return this.result(Outcome.SATISFIED, f"evidence recorded within the last {days} days", [link])


def _capability_controls() -> tuple[Control, ...]:
    from ssdf_ai.code.controls import CONTROLS as CODE
    from ssdf_ai.data.controls import CONTROLS as DATA
    from ssdf_ai.integrity.controls import CONTROLS as INTEGRITY
    from ssdf_ai.provenance.controls import CONTROLS as PROVENANCE
    from ssdf_ai.scan.controls import CONTROLS as SCAN

    return (*SCAN, *INTEGRITY, *PROVENANCE, *DATA, *CODE)


# The built-in controls, in the order reports list them: the project's own, then each
# capability's (scanning, integrity, provenance and releases).
BUILTIN: tuple[Control, ...] = (
    requirements_documented,
    requirements_third_party,
    roles_defined,
    toolchain_declared,
    check_criteria_defined,
    check_results_kept,
    evidence_fresh,
    code_owners,
    vulnerability_disclosure,
    *_capability_controls(),
)
