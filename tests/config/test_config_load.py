"""Loading: where the configuration comes from, its defaults, and its warnings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ssdf_ai.cli.config import Kind
from ssdf_ai.config import (
    PRACTICE_IDS,
    TASK_IDS,
    Config,
    ConfigSource,
    OrganizationKind,
    ProjectSection,
    default_config,
    dump_toml,
    find_project_root,
    load_config,
    validate_text,
)
from ssdf_ai.config._locate import TomlLocator, format_key_path
from ssdf_ai.errors import ConfigError
from ssdf_ai.findings import Severity

TODAY = dt.date(2026, 6, 1)


def _ids_in(profile: Path) -> tuple[list[str], list[str]]:
    data = yaml.safe_load(profile.read_text(encoding="utf-8"))
    practices = [p for group in data["groups"] for p in group["practices"]]
    return [p["id"] for p in practices], [t["id"] for p in practices for t in p["tasks"]]


def test_known_ids_match_the_profile(shared_dir: Path, repo_root: Path) -> None:
    practices, tasks = _ids_in(shared_dir / "sp800-218a" / "profile.yaml")
    assert (len(practices), len(tasks)) == (20, 48)
    assert list(PRACTICE_IDS) == practices
    assert list(TASK_IDS) == tasks
    packaged = repo_root / "src" / "ssdf_ai" / "profile" / "data" / "profile.yaml"
    if packaged.is_file():
        assert _ids_in(packaged) == (practices, tasks)


def test_cli_kinds_match_the_model() -> None:
    assert [k.value for k in Kind] == [k.value for k in OrganizationKind]


def test_defaults_are_the_strictest_sensible() -> None:
    config = Config(project=ProjectSection(name="p", kind=OrganizationKind.ACQUIRER))
    assert config.checks.fail_on is Severity.LOW
    assert config.checks.evidence.max_age_days == 90
    assert config.checks.require_approval_for == ("high", "critical")
    assert config.checks.unsafe_allow_unscanned is False
    assert config.checks.unsafe_accept_stale_evidence is False
    # Nothing escapes the checks unless the file narrows the paths.
    assert (config.paths.models, config.paths.datasets, config.paths.code) == ((".",),) * 3
    assert config.store.url is None
    assert config.data.restrictions == {}
    assert config.data.restriction_for("pii").startswith("restricted:")
    assert config.models == ()
    for name, field in type(config.checks).model_fields.items():
        if name.startswith("unsafe_"):
            assert field.default is False, name


def test_missing_config_gives_defaults(tmp_path: Path) -> None:
    project = tmp_path / "my-model"
    project.mkdir()
    loaded = load_config(project)
    assert loaded.path is None
    assert not loaded.from_file
    assert loaded.source is ConfigSource.DEFAULTS
    assert loaded.config == default_config(project)
    assert loaded.config.project.name == "my-model"
    assert loaded.config.project.kind is OrganizationKind.AI_MODEL_PRODUCER


def test_valid_config_loads(write_config: Callable[..., Path], valid_text: str) -> None:
    path = write_config(valid_text)
    loaded = load_config(path.parent, today=TODAY)
    assert loaded.path == path
    assert loaded.source is ConfigSource.SSDF_TOML
    assert loaded.root == path.parent
    config = loaded.config
    assert config.project.name == "churn"
    assert [r.name for r in config.roles] == ["ML engineering", "MLOps"]
    assert config.roles[0].reviewed == dt.date(2026, 1, 15)
    assert config.roles[0].review_due == dt.date(2027, 1, 15)
    assert config.paths.code == ("src", "*.py")
    assert config.responsibility == {"PS.2.1": "model-provider"}
    assert loaded.warnings == ()


def test_pyproject_tool_table(write_config: Callable[..., Path]) -> None:
    path = write_config(
        """\
        [project]
        name = "churn-model"
        version = "1.0"

        [tool.ruff]
        line-length = 100

        [tool.ssdf.project]
        kind = "ai-system-producer"

        [[tool.ssdf.roles]]
        name = "MLOps"
        holders = ["ops"]
        responsibilities = ["PO.5"]
        covers = ["ai-model-operation"]
        reviewed = 2026-01-01
        """,
        name="pyproject.toml",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path.parent)
    [(where, message, hint)] = caught.value.problems
    assert where == f"{path}:15: tool.ssdf.roles[0].covers[0]"
    assert "did you mean 'ai-model-operations'" in (hint or "")

    path.write_text(path.read_text().replace('operation"', 'operations"'))
    loaded = load_config(path.parent)
    assert loaded.source is ConfigSource.PYPROJECT
    assert loaded.path == path
    # The name comes from pyproject's own [project] table.
    assert loaded.config.project.name == "churn-model"
    assert loaded.config.project.kind is OrganizationKind.AI_SYSTEM_PRODUCER


def test_pyproject_without_tool_table_is_not_a_config(write_config: Callable[..., Path]) -> None:
    path = write_config('[project]\nname = "x"\n', name="pyproject.toml")
    assert load_config(path.parent).source is ConfigSource.DEFAULTS
    with pytest.raises(ConfigError, match=r"no \[tool.ssdf\] table"):
        validate_text(path.read_text(), path)


def test_ssdf_toml_wins_over_pyproject(write_config: Callable[..., Path], valid_text: str) -> None:
    write_config('[tool.ssdf.project]\nname = "other"\nkind = "acquirer"\n', "pyproject.toml")
    path = write_config(valid_text)
    loaded = load_config(path.parent, today=TODAY)
    assert loaded.path == path
    assert loaded.config.project.name == "churn"
    [warning] = loaded.warnings
    assert warning.key == "tool.ssdf"
    assert "ignored because ssdf.toml exists" in warning.message


def test_find_project_root(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_project_root(deep) == deep.resolve()  # nothing anywhere: start itself
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_project_root(deep) == deep.resolve()  # pyproject without [tool.ssdf]
    (tmp_path / "a" / "pyproject.toml").write_text('[tool.ssdf.project]\nname = "x"\n')
    assert find_project_root(deep) == (tmp_path / "a").resolve()
    (tmp_path / "a" / "b" / ".ssdf").mkdir()
    assert find_project_root(deep) == (tmp_path / "a" / "b").resolve()
    (deep / "ssdf.toml").write_text("")
    assert find_project_root(deep / "ssdf.toml") == deep.resolve()


def test_unsafe_switch_warns_with_its_line(
    write_config: Callable[..., Path], valid_text: str
) -> None:
    path = write_config(valid_text + "\n[checks]\nunsafe_allow_unscanned = true\n")
    loaded = load_config(path.parent, today=TODAY)
    [warning] = loaded.warnings
    assert warning.key == "checks.unsafe_allow_unscanned"
    assert warning.where == f"{path}:36"
    assert warning.message.startswith("unsafe setting on: ")
    assert "PW.9.1" in warning.task_ids


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ('[checks]\nfail_on = "critical"\n', "checks.fail_on", "fail only on critical"),
        ("[checks]\nrequire_approval_for = []\n", "checks.require_approval_for", "approver"),
        ("[checks.evidence]\nmax_age_days = 400\n", "checks.evidence.max_age_days", "400 days"),
        ('[store]\nurl = "postgresql://u:secret@db/ssdf"\n', "store.url", "password"),
    ],
)
def test_weakened_settings_warn(
    write_config: Callable[..., Path], valid_text: str, extra: str, key: str, fragment: str
) -> None:
    path = write_config(valid_text + "\n" + extra)
    [warning] = load_config(path.parent, today=TODAY).warnings
    assert warning.key == key
    assert fragment in warning.message


def test_coverage_and_review_warnings(write_config: Callable[..., Path]) -> None:
    path = write_config(
        """\
        [project]
        name = "p"
        kind = "ai-model-producer"

        [[roles]]
        name = "ML"
        holders = ["a"]
        responsibilities = ["PW.4"]
        covers = ["ai-model-development"]
        reviewed = 2024-01-01

        [[roles]]
        name = "Future"
        holders = ["b"]
        responsibilities = ["PW.3"]
        reviewed = 2030-01-01
        """
    )
    warnings = load_config(path.parent, today=TODAY).warnings
    messages = {w.message: w for w in warnings}
    assert "no role covers ai-model-operations" in messages
    assert "no role covers data-science" in messages
    overdue = messages["review of role 'ML' was due on 2024-12-31"]
    assert overdue.where == f"{path}:10"
    assert overdue.task_ids == ("PO.2.1",)
    assert any("in the future" in m for m in messages)
    assert "no security requirements are documented" in messages


def test_show_output_round_trips(write_config: Callable[..., Path], valid_text: str) -> None:
    path = write_config(valid_text)
    loaded = load_config(path.parent, today=TODAY)
    text = dump_toml(loaded.config.model_dump(mode="python"))
    again = validate_text(text, path.parent / "again.toml", today=TODAY)
    assert again.config == loaded.config


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("project", "kind"), 3),
        (("roles", 1, "covers", 1), 21),
        (("roles", 1, "nothing"), 17),
        (("responsibility", "PS.2.1"), 25),
        (("requirements", 0, "applies_to", 1), 33),
        (("nothing",), None),
    ],
)
def test_locator(valid_text: str, path: tuple[str | int, ...], line: int | None) -> None:
    assert TomlLocator(valid_text).line_of(path) == line


def test_locator_multiline_arrays_and_nested_tables() -> None:
    text = (
        "[a]\n"  # 1
        "xs = [\n"  # 2
        '  "one",  # comment, with a comma\n'  # 3
        "  'two',\n"  # 4
        '  """three""",\n'  # 5
        "]\n"  # 6
        "inline = {k = [1, 2], s = 'x'}\n"  # 7
        "[[a.b]]\n"  # 8
        "[[a.b]]\n"  # 9
        "[a.b.c]\n"  # 10
        "d = 1\n"  # 11
    )
    locator = TomlLocator(text)
    assert [locator.line_of(("a", "xs", i)) for i in range(3)] == [3, 4, 5]
    assert locator.line_of(("a", "inline", "k", 1)) == 7
    assert locator.line_of(("a", "b", 1)) == 9
    assert locator.line_of(("a", "b", 1, "c", "d")) == 11


def test_format_key_path() -> None:
    assert format_key_path(("roles", 1, "covers")) == "roles[1].covers"
    assert format_key_path(("responsibility", "PW.4.4")) == 'responsibility."PW.4.4"'
