"""Every kind of configuration error names its file, line and key, and exits 2 from the CLI."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ssdf_ai.config import load_config, validate_text
from ssdf_ai.errors import ConfigError

# Lines 1-3; every case below starts at line 4.
HEAD = '[project]\nname = "x"\nkind = "acquirer"\n'
ROLE = (
    '[[roles]]\nname = "a"\nholders = ["h"]\nresponsibilities = ["PO.2"]\n'
    "reviewed = 2026-01-01\n"
)  # lines 4-8 when it follows HEAD

# id, text after HEAD, line, key path, message fragment, hint fragment
CASES = [
    (
        "approver-role-not-defined",
        ROLE + '[checks]\napprover_roles = ["a", "security"]\n',
        10,
        "checks.approver_roles[1]",
        "'security' is not the name of a role",
        "roles: 'a'",
    ),
    (
        "signer-key-outside-project",
        '[[signers]]\nname = "h"\npublic_key = "../keys/h.pub"\n',
        6,
        "signers[0].public_key",
        "'../keys/h.pub' leaves the project directory",
        "relative to the project root",
    ),
    (
        "unknown-key-with-suggestion",
        ROLE + 'holder = ["x"]\n',
        9,
        "roles[0].holder",
        "unknown key 'holder'",
        "did you mean 'holders'? allowed keys: name, holders, responsibilities",
    ),
    (
        "unknown-top-level-table",
        "[check]\nfail_on = 'low'\n",
        4,
        "check",
        "unknown key 'check'",
        "did you mean 'checks'?",
    ),
    (
        "wrong-type",
        '[paths]\nmodels = "models"\n',
        5,
        "paths.models",
        "expected an array, got string 'models'",
        'write an array, such as ["a", "b"]',
    ),
    (
        "wrong-type-bool",
        '[[requirements]]\nid = "R"\ntext = "t"\nsource = "law"\nreference = "r"\n'
        'covers_ai = "yes"\n',
        9,
        "requirements[0].covers_ai",
        "expected true or false, got string 'yes'",
        "without quotes",
    ),
    (
        "quoted-date",
        ROLE.replace("2026-01-01", '"2026-01-01"'),
        8,
        "roles[0].reviewed",
        "expected a date, got string '2026-01-01'",
        "TOML date without quotes",
    ),
    (
        "enum-lists-allowed-values",
        ROLE + 'covers = ["ai-model-development", "data-sciense"]\n',
        9,
        "roles[0].covers[1]",
        "'data-sciense' is not an allowed value",
        "did you mean 'data-science'? allowed values: ai-model-development, "
        "ai-model-operations, data-science",
    ),
    (
        "severity-enum",
        '[checks]\nrequired_controls = []\nfail_on = "severe"\n',
        6,
        "checks.fail_on",
        "'severe' is not an allowed value",
        "allowed values: info, low, medium, high, critical",
    ),
    (
        "bad-task-id",
        ROLE.replace('["PO.2"]', '[\n  "PO.2",\n  "PW.4.3",\n]'),
        9,
        "roles[0].responsibilities[1]",
        "'PW.4.3' is not an SP 800-218A practice or task id",
        "did you mean 'PW.4.4'",
    ),
    (
        "bad-responsibility-key",
        '[responsibility]\n"PO.9.1" = "self"\n',
        5,
        'responsibility."PO.9.1"',
        "'PO.9.1' is not an SP 800-218A practice or task id",
        "ssdf profile list",
    ),
    (
        "bad-party",
        "[responsibility]\nPW.4.4 = 'Model Provider'\n",
        5,
        'responsibility."PW.4.4"',
        "'Model Provider' is not a party name",
        "model-provider",
    ),
    (
        "path-escapes-project",
        '[paths]\ndatasets = ["data", "data/../../secrets"]\n',
        5,
        "paths.datasets[1]",
        "'data/../../secrets' leaves the project directory",
        "relative to the project root",
    ),
    (
        "absolute-path",
        '[paths]\ncode = [\n  "src",\n  "/etc/passwd",\n]\n',
        7,
        "paths.code[1]",
        "'/etc/passwd' is not relative to the project root",
        "relative to the project root",
    ),
    (
        "missing-key",
        '[[roles]]\nname = "a"\nholders = ["h"]\nreviewed = 2026-01-01\n',
        4,
        "roles[0].responsibilities",
        "missing required key 'responsibilities'",
        "",
    ),
    (
        "second-array-table",
        ROLE + ROLE.replace('"a"', '"b"').replace("2026-01-01", '"2026-13-01"'),
        13,
        "roles[1].reviewed",
        "expected a date",
        "",
    ),
    (
        "duplicate-role",
        ROLE + ROLE,
        10,
        "roles[1].name",
        "duplicate name 'a', already used by roles[0]",
        "unique name",
    ),
    (
        "store-url",
        '[store]\nurl = "mysql://db/ssdf"\n',
        5,
        "store.url",
        "not a supported database URL",
        "postgresql://",
    ),
    (
        "sensitive-category",
        '[data.restrictions]\npii = "ML team only"\nphy = "x"\n',
        6,
        "data.restrictions.phy",
        "'phy' is not a sensitive-data category",
        "did you mean 'phi'?",
    ),
    (
        "model-without-justification",
        '[[models]]\npath = "models/m.onnx"\nname = "m"\n',
        4,
        "models[0].justification",
        "missing required key 'justification'",
        "",
    ),
    (
        "approval-target",
        '[checks]\nrequire_approval_for = ["high", "SSDF-1"]\n',
        5,
        "checks.require_approval_for[1]",
        "neither a severity nor a rule id",
        "SSDF-SCAN-001",
    ),
    (
        "empty-list",
        ROLE.replace('["h"]', "[]"),
        6,
        "roles[0].holders",
        "needs at least 1 item(s)",
        "",
    ),
    (
        "out-of-range",
        "[checks.evidence]\nmax_age_days = 0\n",
        5,
        "checks.evidence.max_age_days",
        "greater than or equal to 1",
        "",
    ),
]


def _problem(error: ConfigError, key: str) -> tuple[str, str, str | None]:
    matches = [p for p in error.problems if p[0].endswith(f": {key}")]
    assert matches, f"no problem for {key}: {error.problems}"
    return matches[0]


@pytest.mark.parametrize(
    ("text", "line", "key", "message", "hint"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_problem_names_line_key_message_and_hint(
    write_config: Callable[..., Path], text: str, line: int, key: str, message: str, hint: str
) -> None:
    path = write_config(HEAD + text)
    with pytest.raises(ConfigError) as caught:
        load_config(path.parent)
    where, got_message, got_hint = _problem(caught.value, key)
    assert where == f"{path}:{line}: {key}"
    assert message in got_message
    assert hint in (got_hint or "")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [case[1:4] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_cli_exits_2_with_file_and_line(
    write_config: Callable[..., Path],
    ssdf: Callable[..., tuple[int, str, str]],
    text: str,
    line: int,
    key: str,
) -> None:
    path = write_config(HEAD + text)
    code, stdout, stderr = ssdf("config", "validate", path.parent)
    assert code == 2
    assert stdout == ""
    assert f"{path}:{line}: {key}: " in stderr
    assert "error: " in stderr


def test_toml_syntax_error_reports_line_and_column(
    write_config: Callable[..., Path], ssdf: Callable[..., tuple[int, str, str]]
) -> None:
    path = write_config(HEAD + "[paths]\nmodels = [models]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path.parent)
    (where, message, _), *_ = caught.value.problems
    assert where == f"{path}:5:11"
    assert message.startswith("TOML syntax error: ")
    code, _, stderr = ssdf("config", "validate", path)
    assert code == 2
    assert f"{path}:5:11: TOML syntax error" in stderr


def test_all_problems_are_reported_at_once_in_line_order(write_config: Callable[..., Path]) -> None:
    path = write_config(
        HEAD
        + '[paths]\nmodels = ["/abs"]\n'  # line 5
        + ROLE.replace('"PO.2"', '"XX.1"')  # lines 6-10, the id on 9
        + 'colour = "red"\n'  # line 11
        + '[checks]\nfail_on = "none"\n'  # line 13
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path.parent)
    lines = [int(re.search(r":(\d+): ", p[0]).group(1)) for p in caught.value.problems]  # type: ignore[union-attr]
    assert lines == [5, 9, 11, 13]
    assert "4 problems" in caught.value.message


def test_unquoted_dotted_task_ids_are_read_as_ids(write_config: Callable[..., Path]) -> None:
    path = write_config(HEAD + '[responsibility]\nPW.4.4 = "self"\nPS.2 = "model-provider"\n')
    config = load_config(path.parent).config
    assert config.responsibility == {"PW.4.4": "self", "PS.2": "model-provider"}
    assert config.party_for("PS.2.1") == "model-provider"
    assert config.party_for("PW.4.4") == "self"
    assert config.party_for("PO.1.1") == "self"


def test_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ssdf.toml").write_bytes(b'[project]\nname = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path)


def test_validate_text_without_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_text(HEAD + "kind2 = 1\n", tmp_path / "inline.toml")
    assert caught.value.problems[0][0] == f"{tmp_path / 'inline.toml'}:4: project.kind2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[project]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ('[project]\nname = "' + "x" * (2 << 20) + '"\n', "larger than 1 MiB"),
    ],
    ids=["deep-nesting", "huge-file"],
)
def test_hostile_files_are_refused_with_exit_2(
    write_config: Callable[..., Path],
    ssdf: Callable[..., tuple[int, str, str]],
    text: str,
    message: str,
) -> None:
    path = write_config(text)
    code, out, err = ssdf("config", "validate", path.parent)
    assert code == 2
    assert out == ""
    assert message in err
