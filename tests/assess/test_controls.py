"""Each built-in control on real project folders: every outcome it can give, and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ssdf_ai.assess._builtin import BUILTIN
from ssdf_ai.assess.evaluate import gather_facts
from ssdf_ai.config import load_config
from ssdf_ai.evidence import Subject, SubjectKind
from ssdf_ai.findings import Outcome
from ssdf_ai.store import EvidenceStore

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)

PROJECT = '[project]\nname = "p"\nkind = "ai-model-producer"\n'
PATHS = '[paths]\nmodels = ["models"]\ndatasets = ["data"]\ncode = ["src"]\n'


def role(name: str, covers: str, reviewed: str = "2026-10-01") -> str:
    return (
        f'[[roles]]\nname = "{name}"\nholders = ["{name.lower()}"]\nresponsibilities = ["PO.2"]\n'
        f'covers = ["{covers}"]\nreviewed = {reviewed}\n'
    )


ALL_ROLES = (
    role("Dev", "ai-model-development")
    + role("Ops", "ai-model-operations")
    + role("Data", "data-science")
)


def requirement(rid: str, *, ai: bool, who: str = "internal") -> str:
    return (
        f'[[requirements]]\nid = "{rid}"\ntext = "t"\nsource = "policy"\nreference = "r"\n'
        f'covers_ai = {str(ai).lower()}\napplies_to = ["{who}"]\n'
    )


def evaluate(root: Path, control_id: str, *, now: dt.datetime = NOW) -> tuple[Outcome, str]:
    loaded = load_config(root)
    facts = gather_facts(root, loaded, now=now, url=None)
    control = next(c for c in BUILTIN if c.id == control_id)
    result = control.evaluate(facts)
    return result.outcome, result.rationale


def project(tmp_path: Path, config: str | None, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    if config is not None:
        (root / "ssdf.toml").write_text(config)
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


CASES = [
    # control, config, files, outcome, rationale fragment
    ("requirements-documented", None, {}, Outcome.NOT_SATISFIED, "no ssdf.toml"),
    ("requirements-documented", PROJECT, {}, Outcome.NOT_SATISFIED, "no [[requirements]]"),
    ("requirements-documented", PROJECT + requirement("R1", ai=False), {}, Outcome.PARTIAL,
     "none covering AI"),
    ("requirements-documented", PROJECT + requirement("R1", ai=True), {}, Outcome.SATISFIED,
     "covering AI: R1"),
    ("requirements-third-party", PROJECT + requirement("R1", ai=True), {}, Outcome.NOT_SATISFIED,
     "no requirement applies to third parties"),
    ("requirements-third-party", PROJECT + requirement("R1", ai=False, who="third-party"), {},
     Outcome.PARTIAL, "none covering AI"),
    ("requirements-third-party", PROJECT + requirement("R1", ai=True, who="third-party"), {},
     Outcome.SATISFIED, "R1"),
    ("roles-defined", PROJECT, {}, Outcome.NOT_SATISFIED, "no [[roles]]"),
    ("roles-defined", PROJECT + role("Dev", "ai-model-development"), {}, Outcome.PARTIAL,
     "no role covers ai-model-operations, data-science"),
    ("roles-defined", PROJECT + ALL_ROLES, {}, Outcome.SATISFIED, "every review is current"),
    ("roles-defined", PROJECT + ALL_ROLES + role("Old", "data-science", "2024-01-01"), {},
     Outcome.STALE, "Old (due 2024-12-31)"),
    ("check-criteria-defined", None, {}, Outcome.NOT_SATISFIED, "no ssdf.toml"),
    ("check-criteria-defined", PROJECT, {}, Outcome.PARTIAL, "no role may approve"),
    ("check-criteria-defined", PROJECT + ALL_ROLES + '[checks]\nrequire_approval_for = []\n', {},
     Outcome.PARTIAL, "require_approval_for is empty"),
    ("check-criteria-defined", PROJECT + ALL_ROLES + '[checks]\napprover_roles = ["Ops"]\n', {},
     Outcome.SATISFIED, "approvers: Ops"),
    ("check-criteria-defined",
     PROJECT + ALL_ROLES + '[checks]\napprover_roles = ["Ops"]\nunsafe_allow_unscanned = true\n',
     {}, Outcome.PARTIAL, "unsafe switches are on: unsafe_allow_unscanned"),
    ("code-owners", PROJECT + PATHS, {}, Outcome.NOT_SATISFIED, "no CODEOWNERS"),
    ("code-owners", PROJECT + PATHS, {"CODEOWNERS": "# nobody\n"}, Outcome.NOT_SATISFIED,
     "assigns no owners"),
    ("code-owners", PROJECT + PATHS, {".github/CODEOWNERS": "/models/ @ml\n/src/ @dev\n"},
     Outcome.PARTIAL, "paths without an owner: data"),
    ("code-owners", PROJECT + PATHS, {"CODEOWNERS": "/models/ @ml\n/data/ @ds\n/src/ @dev\n"},
     Outcome.SATISFIED, "every configured path (3) has an owner"),
    ("code-owners", PROJECT + PATHS, {"CODEOWNERS": "* @everyone\n"}, Outcome.SATISFIED,
     "every configured path"),
    ("vulnerability-disclosure", PROJECT + PATHS, {}, Outcome.NOT_SATISFIED, "no SECURITY.md"),
    ("vulnerability-disclosure", PROJECT + PATHS,
     {"SECURITY.md": "Report bugs to security@example.org.\n"}, Outcome.PARTIAL,
     "does not mention AI models"),
    ("vulnerability-disclosure", PROJECT + PATHS,
     {"SECURITY.md": "The model is covered. Tell us.\n"}, Outcome.PARTIAL,
     "gives no address or link"),
    ("vulnerability-disclosure", PROJECT + PATHS,
     {"SECURITY.md": "Report model issues to security@example.org.\n",
      "models/m.safetensors": "x", "models/README.md": "# A model\n"},
     Outcome.PARTIAL, "model cards without limitations: models/README.md"),
    ("vulnerability-disclosure", PROJECT + PATHS,
     {"SECURITY.md": "Report model issues to security@example.org.\n",
      "models/m.safetensors": "x", "models/README.md": "# A model\n## Limitations\nMany.\n"},
     Outcome.SATISFIED, "1 model card(s) state limitations"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("control_id", "config", "files", "outcome", "fragment"),
    CASES,
    ids=[f"{c[0]}-{i}-{c[3]}" for i, c in enumerate(CASES)],
)
def test_control_outcome(
    tmp_path: Path,
    control_id: str,
    config: str | None,
    files: dict[str, str],
    outcome: Outcome,
    fragment: str,
) -> None:
    root = project(tmp_path, config, files)
    got, rationale = evaluate(root, control_id)
    assert got is outcome, rationale
    assert fragment in rationale


def test_model_card_symlinked_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "README.md").write_text("---\nlicense: x\n---\n# Limitations: none\n")
    root = project(
        tmp_path,
        PROJECT + PATHS,
        {"SECURITY.md": "Report model issues to security@example.org.\n"},
    )
    (root / "models").mkdir()
    (root / "models" / "README.md").symlink_to(outside / "README.md")
    outcome, rationale = evaluate(root, "vulnerability-disclosure")
    assert outcome is Outcome.PARTIAL
    assert "no model card or policy states the models' limitations" in rationale


def _record(root: Path, *, with_artifact: bool) -> None:
    with EvidenceStore.open(root) as store, store.run("evidence add", []) as run:
        run.add_subject(Subject(kind=SubjectKind.FILE, name="x"))
        if with_artifact:
            run.add_artifact(b"card", kind="data-card", media_type="text/markdown")


@pytest.mark.parametrize(
    ("control_id", "artifact", "now", "outcome", "fragment"),
    [
        ("toolchain-declared", True, NOW, Outcome.SATISFIED, "1 run(s) recorded"),
        ("check-results-kept", False, NOW, Outcome.PARTIAL, "no artifact"),
        ("check-results-kept", True, NOW, Outcome.SATISFIED, "1 run(s) and 1 artifact(s)"),
        ("evidence-fresh", True, None, Outcome.SATISFIED, "within the last 90 days"),
        ("evidence-fresh", True, "future", Outcome.STALE, "older than 90 days"),
        ("evidence-fresh", False, None, Outcome.NOT_SATISFIED, "no evidence"),
    ],
)
def test_store_backed_controls(
    tmp_path: Path,
    control_id: str,
    artifact: bool,
    now: dt.datetime | str | None,
    outcome: Outcome,
    fragment: str,
) -> None:
    root = project(tmp_path, PROJECT)
    _record(root, with_artifact=artifact)
    moment = dt.datetime.now(dt.UTC)
    if now == "future":
        moment += dt.timedelta(days=91)
    got, rationale = evaluate(root, control_id, now=moment)
    assert got is outcome, rationale
    assert fragment in rationale


@pytest.mark.parametrize(
    ("control_id", "outcome"),
    [
        ("toolchain-declared", Outcome.PARTIAL),
        ("check-results-kept", Outcome.NOT_SATISFIED),
        ("evidence-fresh", Outcome.NOT_SATISFIED),
    ],
)
def test_store_backed_controls_without_a_store(
    tmp_path: Path, control_id: str, outcome: Outcome
) -> None:
    root = project(tmp_path, PROJECT)
    assert evaluate(root, control_id)[0] is outcome
    assert not (root / ".ssdf").exists()
