"""``scan_secrets`` on git history: secrets removed from the tree, one finding per value with a
count and the first commit, ``--since``, bounds, and a repository whose configuration tries to
run commands (a canary file that must never appear)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ssdf_ai.code import secret_rules as rules
from ssdf_ai.code._secrets_history import MARK, HistoryLog, read_history
from ssdf_ai.code.secrets import scan_secrets
from ssdf_ai.errors import InputError

GH = "ghp_" + "Q7x2Lm9Pz4Rt8Vw1Yb6Nc3Kd5Hf0Js2Ga4Ue"
HF = "hf_" + "Xa8Kq2Lm7Np4Rt9Vw3Yb6Zc1Df5Gh0JkLm"
AWS = "AKIA" + "Q3ZL7MXR2TWV5YNB"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(root: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+00:00",
        "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+00:00",
    }
    done = subprocess.run(  # noqa: S603
        ["git", *args],  # noqa: S607
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


def test_removed_secret_is_still_a_finding(repo: Path) -> None:
    (repo / "app.py").write_text(f'import os\nTOKEN = "{GH}"\n')
    (repo / "keep.py").write_text(f'HF = "{HF}"\n')
    first = commit(repo, "add")
    (repo / "app.py").write_text('import os\nTOKEN = os.environ["TOKEN"]\n')
    commit(repo, "remove the token")
    report = scan_secrets(repo, root=repo)
    assert report.history_scanned
    assert report.commits_scanned == 2
    by_rule = {f.rule_id: f for f in report.findings}
    assert set(by_rule) == {rules.ONLY_IN_HISTORY, rules.IN_TREE}
    past = by_rule[rules.ONLY_IN_HISTORY]
    assert (past.location.path, past.location.line) == ("app.py", 2)
    assert past.location.address == f"commit {first[:12]} (2024-05-01T12:00:00+00:00)"
    assert "rewrite the history" in (past.remediation or "")
    detail = next(d for d in report.secrets if d.rule_id == rules.ONLY_IN_HISTORY)
    assert (detail.in_working_tree, detail.first_commit, detail.commits) == (False, first, 1)
    # The secret still in the tree is one finding (not two), which knows its history.
    tree = next(d for d in report.secrets if d.rule_id == rules.IN_TREE)
    assert (tree.in_working_tree, tree.first_commit) == (True, first)
    assert first[:12] in by_rule[rules.IN_TREE].message
    assert GH not in report.model_dump_json()
    assert GH[8:] not in report.model_dump_json()


def test_same_value_in_many_commits_is_one_finding(repo: Path) -> None:
    commits = []
    for n in range(4):
        (repo / f"f{n}.env").write_text(f"KEY={AWS}\n")
        commits.append(commit(repo, f"c{n}"))
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.env").write_text(f"SIDE={AWS}\n")
    commit(repo, "side branch")
    git(repo, "checkout", "-q", "main")
    for n in range(4):
        (repo / f"f{n}.env").unlink()
    commit(repo, "clean up")
    report = scan_secrets(repo, root=repo)
    (finding,) = report.findings
    assert finding.rule_id == rules.ONLY_IN_HISTORY
    (detail,) = report.secrets
    assert detail.commits == 5  # every ref is read, the side branch too
    assert detail.first_commit == commits[0]
    assert detail.path == "f0.env"


def test_since_leaves_out_older_commits(repo: Path) -> None:
    (repo / "a.py").write_text(f'T = "{GH}"\n')
    old = commit(repo, "old")
    (repo / "a.py").write_text("T = None\n")
    commit(repo, "remove")
    assert len(scan_secrets(repo, root=repo).findings) == 1
    report = scan_secrets(repo, root=repo, since=old)
    assert report.findings == []
    assert report.commits_scanned == 1
    with pytest.raises(InputError, match="not a git ref"):
        scan_secrets(repo, root=repo, since="--output=/tmp/x")
    with pytest.raises(InputError, match="does not name a commit"):
        scan_secrets(repo, root=repo, since="no-such-branch")


def test_history_switch(repo: Path, tmp_path: Path) -> None:
    (repo / "a.py").write_text(f'T = "{GH}"\n')
    commit(repo, "add")
    (repo / "a.py").write_text("T = None\n")
    commit(repo, "remove")
    assert scan_secrets(repo, root=repo, history=False).findings == []
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InputError, match="not the top of a git work tree"):
        scan_secrets(plain, root=plain, history=True)
    assert scan_secrets(plain, root=plain).history_scanned is False


def test_empty_repository(repo: Path) -> None:
    (repo / "a.py").write_text("x = 1\n")
    report = scan_secrets(repo, root=repo)
    assert report.history_scanned
    assert report.commits_scanned == 0
    assert report.findings == []


def test_history_output_is_bounded(repo: Path) -> None:
    (repo / "big.txt").write_text("line\n" * 50_000)
    commit(repo, "big")
    with pytest.raises(InputError, match="wrote more than"):
        read_history(repo, limit=10_000)


def test_added_line_that_looks_like_a_file_header(repo: Path) -> None:
    # An added line "++ b/x" prints as "+++ b/x": the hunk counts keep it a line, not a header.
    (repo / "notes.txt").write_text(f"++ b/other.txt\ntoken: {GH}\n")
    commit(repo, "add")
    (repo / "notes.txt").write_text("gone\n")
    commit(repo, "remove")
    (finding,) = scan_secrets(repo, root=repo).findings
    assert (finding.location.path, finding.location.line) == ("notes.txt", 2)


def test_parser_on_a_handwritten_log() -> None:
    log = HistoryLog(
        MARK
        + b"c1 2024-01-01T00:00:00+00:00\n\n"
        + b"diff --git a/x b/x\n--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+one\n+two\n"
        + b"diff --git a/y b/y\nBinary files /dev/null and b/y differ\n"
        + b"diff --git a/z b/z\n--- a/z\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n"
    )
    (added,) = list(log.added())
    assert (added.commit, added.path, added.numbers, added.lines) == (
        "c1",
        "x",
        [1, 2],
        ["one", "two"],
    )
    assert log.commits == 1


CANARY_CONFIG = """
[core]
    fsmonitor = "touch {canary}.fsmonitor; false"
    pager = "touch {canary}.pager; cat"
[diff]
    external = "touch {canary}.external; true"
[diff "evil"]
    textconv = "touch {canary}.textconv; cat"
[pager]
    log = "touch {canary}.logpager; cat"
"""


def _arm(repo: Path, canary: Path) -> None:
    (repo / ".gitattributes").write_text("* diff=evil\n")
    (repo / "a.py").write_text(f'T = "{GH}"\n')
    commit(repo, "add")
    (repo / "a.py").write_text("T = None\n")
    commit(repo, "remove")
    with (repo / ".git/config").open("a") as f:
        f.write(CANARY_CONFIG.format(canary=canary))


def test_canary_repository_config_runs_nothing(repo: Path, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    _arm(repo, canary)
    report = scan_secrets(repo, root=repo)
    assert [f.rule_id for f in report.findings] == [rules.ONLY_IN_HISTORY]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("canary")) == []


def test_canary_is_armed(repo: Path, tmp_path: Path) -> None:
    # The same repository makes plain git run the canary: the test above could fail.
    canary = tmp_path / "canary"
    _arm(repo, canary)
    git(repo, "log", "-p")
    assert (tmp_path / "canary.textconv").exists()
