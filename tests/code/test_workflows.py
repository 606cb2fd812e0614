"""GitHub Actions workflow checks on real workflow files: each mistake with its line, the safe
variant of each without findings, and hostile or malformed YAML reported, never raised."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from ssdf_ai.code import env_rules as rules
from ssdf_ai.code.workflows import (
    MAX_WORKFLOW_BYTES,
    check_workflow,
    check_workflows,
    find_workflows,
)
from ssdf_ai.findings import Severity

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
HEADER = "name: ci\non: push\npermissions:\n  contents: read\n"


def _write(root: Path, name: str, text: str) -> Path:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n").replace("HEADER\n", HEADER))
    return path


def _found(path: Path) -> list[tuple[str, int | None, Severity]]:
    result = check_workflow(path, path.name)
    assert result.checked
    return [(f.rule_id, f.location.line, f.severity) for f in result.findings]


# (name, workflow, expected (rule, line, severity)); lines are 1-based in the dedented text.
UNSAFE = [
    (
        "unpinned-tag",
        f"""
        HEADER
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - uses: actions/setup-python@{SHA[:7]}
        """,
        [
            (rules.UNPINNED_ACTION, 9, Severity.MEDIUM),
            (rules.UNPINNED_ACTION, 10, Severity.MEDIUM),
        ],
    ),
    (
        "unpinned-docker-and-reusable",
        """
        HEADER
        jobs:
          call:
            uses: org/repo/.github/workflows/build.yml@main
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: docker://alpine:3.20
        """,
        [
            (rules.UNPINNED_ACTION, 7, Severity.MEDIUM),
            (rules.UNPINNED_ACTION, 11, Severity.MEDIUM),
        ],
    ),
    (
        "no-permissions",
        """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: make test
          lint:
            runs-on: ubuntu-latest
            permissions:
              contents: read
            steps:
              - run: make lint
        """,
        [(rules.TOKEN_PERMISSIONS, 3, Severity.MEDIUM)],
    ),
    (
        "write-all",
        """
        on: push
        permissions: write-all
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: make
        """,
        [(rules.TOKEN_PERMISSIONS, 2, Severity.HIGH)],
    ),
    (
        "top-level-write",
        """
        on: push
        permissions:
          contents: write
          packages: write
          issues: read
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: make
        """,
        [(rules.TOKEN_PERMISSIONS, 2, Severity.MEDIUM)],
    ),
    (
        "prt-untrusted-checkout",
        f"""
        on: pull_request_target
        permissions:
          contents: read
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@{SHA}
                with:
                  ref: ${{{{ github.event.pull_request.head.sha }}}}
              - run: make test
        """,
        [(rules.UNTRUSTED_CHECKOUT, 10, Severity.HIGH)],
    ),
    (
        "workflow-run-head-branch-checkout",
        f"""
        on:
          workflow_run:
            workflows: [ci]
            types: [completed]
        permissions: {{}}
        jobs:
          deploy:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@{SHA}
                with:
                  ref: ${{{{ github.event.workflow_run.head_sha }}}}
        """,
        [(rules.UNTRUSTED_CHECKOUT, 12, Severity.HIGH)],
    ),
    (
        "prt-gh-pr-checkout",
        """
        on: [pull_request_target]
        permissions: {}
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  gh pr checkout ${{ github.event.number }}
                  make test
        """,
        [(rules.UNTRUSTED_CHECKOUT, 8, Severity.HIGH)],
    ),
    (
        "prt-without-checkout",
        """
        on:
          pull_request_target:
            types: [labeled]
        permissions:
          pull-requests: read
        jobs:
          label:
            runs-on: ubuntu-latest
            steps:
              - run: echo labelled
        """,
        [(rules.PRIVILEGED_TRIGGER, 1, Severity.LOW)],
    ),
    (
        "script-injection",
        """
        on: issues
        permissions: {}
        jobs:
          triage:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  echo "checking"
                  echo "${{ github.event.issue.title }}" | grep -q bug
              - run: git log -1 --format=%s "${{ github.head_ref }}"
              - run: echo "${{ github.event.commits[0].message }}"
        """,
        [
            (rules.SCRIPT_INJECTION, 9, Severity.HIGH),
            (rules.SCRIPT_INJECTION, 10, Severity.HIGH),
            (rules.SCRIPT_INJECTION, 11, Severity.HIGH),
        ],
    ),
    (
        "github-script-injection",
        f"""
        on: issue_comment
        permissions: {{}}
        jobs:
          reply:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/github-script@{SHA}
                with:
                  script: |
                    const body = `${{{{ github.event.comment.body }}}}`
        """,
        [(rules.SCRIPT_INJECTION, 10, Severity.HIGH)],
    ),
    (
        "secret-echoed-and-written",
        """
        on: push
        permissions: {}
        jobs:
          leak:
            runs-on: ubuntu-latest
            env:
              API_TOKEN: ${{ secrets.API_TOKEN }}
            steps:
              - run: |
                  echo "token is ${{ secrets.DEPLOY_KEY }}"
                  echo "key=${{ secrets.DEPLOY_KEY }}" >> "$GITHUB_OUTPUT"
                  echo "$API_TOKEN" > token.txt
        """,
        [
            (rules.SECRET_LEAK, 10, Severity.MEDIUM),
            (rules.SECRET_LEAK, 11, Severity.HIGH),
            (rules.SECRET_LEAK, 12, Severity.HIGH),
        ],
    ),
    (
        "set-x-with-secret-env",
        """
        on: push
        permissions: {}
        jobs:
          deploy:
            runs-on: ubuntu-latest
            steps:
              - env:
                  TOKEN: ${{ secrets.TOKEN }}
                run: |
                  set -ex
                  ./deploy.sh
        """,
        [(rules.SECRET_LEAK, 10, Severity.MEDIUM)],
    ),
    (
        "unsecure-commands",
        """
        on: push
        permissions: {}
        env:
          ACTIONS_ALLOW_UNSECURE_COMMANDS: true
        jobs:
          build:
            runs-on: ubuntu-latest
            steps:
              - run: make
        """,
        [(rules.UNSECURE_COMMANDS, 4, Severity.HIGH)],
    ),
]

# The safe variant of each mistake above: no findings at all.
SAFE = [
    (
        "pinned",
        f"""
        HEADER
        jobs:
          call:
            uses: org/repo/.github/workflows/build.yml@{SHA}
          build:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@{SHA} # v4.2.2
              - uses: ./.github/actions/local
              - uses: docker://alpine@sha256:{"a" * 64}
        """,
    ),
    (
        "job-level-permissions",
        """
        on: push
        jobs:
          release:
            runs-on: ubuntu-latest
            permissions:
              contents: write
            steps:
              - run: make release
          lint:
            runs-on: ubuntu-latest
            permissions: read-all
            steps:
              - run: make lint
        """,
    ),
    (
        "pull-request-checkout",
        f"""
        on: pull_request
        permissions:
          contents: read
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@{SHA}
                with:
                  ref: ${{{{ github.event.pull_request.head.sha }}}}
        """,
    ),
    (
        "injection-through-env",
        """
        on: issues
        permissions: {}
        jobs:
          triage:
            runs-on: ubuntu-latest
            steps:
              - env:
                  TITLE: ${{ github.event.issue.title }}
                run: echo "$TITLE" | grep -q bug
              - run: echo "${{ github.event.issue.number }} ${{ github.sha }}"
        """,
    ),
    (
        "secret-used-not-leaked",
        """
        on: push
        permissions: {}
        jobs:
          deploy:
            runs-on: ubuntu-latest
            env:
              ACTIONS_ALLOW_UNSECURE_COMMANDS: false
            steps:
              - env:
                  TOKEN: ${{ secrets.TOKEN }}
                run: |
                  echo "$TOKEN" | docker login ghcr.io -u bot --password-stdin
                  echo "::add-mask::$TOKEN"
                  curl -sf -H "Authorization: Bearer $TOKEN" https://example.com >> "$GITHUB_OUTPUT"
                  curl -H "Authorization: Bearer $TOKEN" https://example.com > out.json
                  echo "deploying"
        """,
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), UNSAFE, ids=[u[0] for u in UNSAFE])
def test_each_mistake_is_found_at_its_line(
    tmp_path: Path, name: str, text: str, expected: list[tuple[str, int, Severity]]
) -> None:
    path = _write(tmp_path, f"{name}.yml", text)
    assert sorted(_found(path), key=lambda f: (f[1] or 0, f[0])) == expected


@pytest.mark.parametrize(("name", "text"), SAFE, ids=[s[0] for s in SAFE])
def test_safe_variants_have_no_findings(tmp_path: Path, name: str, text: str) -> None:
    path = _write(tmp_path, f"{name}.yml", text)
    assert _found(path) == []


def test_findings_carry_rule_metadata(tmp_path: Path) -> None:
    path = _write(tmp_path, "ci.yml", UNSAFE[0][1])
    finding = check_workflow(path, ".github/workflows/ci.yml").findings[0]
    assert finding.location.path == ".github/workflows/ci.yml"
    assert finding.cwe == ("CWE-829",)
    assert "PO.3.2" in finding.task_ids
    assert finding.remediation is not None
    assert "SHA" in finding.remediation


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("on: push\njobs:\n  build: [unclosed\n", "not valid YAML at line"),
        ("- just\n- a list\n", "not a mapping"),
        ("on: push\n", "no jobs mapping"),
        ("", "empty"),
        ("on: push\njobs: {}\n---\non: push\njobs: {}\n", "not valid YAML"),
        ("on: push\njobs:\n  a: " + "[" * 2000 + "]" * 2000 + "\n", "nested"),
    ],
    ids=["syntax", "list", "no-jobs", "empty", "two-documents", "deep-nesting"],
)
def test_malformed_workflows_are_reported_not_raised(tmp_path: Path, text: str, why: str) -> None:
    path = _write(tmp_path, "bad.yml", text)
    result = check_workflow(path, "bad.yml")
    assert not result.checked
    assert [f.rule_id for f in result.findings] == [rules.WORKFLOW_UNCHECKED]
    assert why in result.findings[0].message


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = _write(tmp_path, "bomb.yml", "\n".join(lines) + "\non: push\njobs: {x: *a9}\n")
    started = time.monotonic()
    result = check_workflow(path, "bomb.yml")
    assert time.monotonic() - started < 10
    assert not result.checked
    assert "alias bomb" in result.findings[0].message


def test_oversized_and_non_utf8_workflows_are_not_read(tmp_path: Path) -> None:
    big = _write(tmp_path, "big.yml", "on: push\n# " + "x" * MAX_WORKFLOW_BYTES + "\n")
    binary = tmp_path / ".github" / "workflows" / "bin.yaml"
    binary.write_bytes(b"on: push\n\xff\xfe\x00")
    results = {r.path: r for r in check_workflows(tmp_path)}
    assert "larger than" in results[".github/workflows/big.yml"].findings[0].message
    assert "UTF-8" in results[".github/workflows/bin.yaml"].findings[0].message
    assert big.stat().st_size > MAX_WORKFLOW_BYTES


def test_symlinked_workflows_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text("on: push\njobs: {}\n")
    project = tmp_path / "project"
    _write(project, "real.yml", SAFE[0][1])
    os.symlink(outside, project / ".github" / "workflows" / "linked.yml")
    assert [p.name for p in find_workflows(project)] == ["real.yml"]
    linked_dir = tmp_path / "other"
    (linked_dir / ".github").mkdir(parents=True)
    os.symlink(project / ".github" / "workflows", linked_dir / ".github" / "workflows")
    assert find_workflows(linked_dir) == []
    assert check_workflow(project / ".github" / "workflows" / "linked.yml", "l").checked is False


def test_only_workflow_files_are_found(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", SAFE[0][1])
    _write(tmp_path, "b.yml", SAFE[0][1])
    (tmp_path / ".github" / "workflows" / "notes.md").write_text("# notes\n")
    results = check_workflows(tmp_path, prefix="repo/")
    assert [r.path for r in results] == [
        "repo/.github/workflows/a.yaml",
        "repo/.github/workflows/b.yml",
    ]
    assert all(r.checked and not r.findings for r in results)


@pytest.mark.parametrize(
    ("name", "run"),
    [
        ("unclosed-expressions", "${{ " * 200_000),
        ("git-fetch-without-pull", "git fetch " * 90_000),
        ("blank-lines", '"' + "\\n" * 400_000 + '"'),
    ],
)
def test_hostile_scripts_are_checked_in_bounded_time(tmp_path: Path, name: str, run: str) -> None:
    text = (
        f"on: pull_request_target\npermissions: {{}}\njobs:\n  a:\n    steps:\n      - run: {run}\n"
    )
    assert len(text) <= MAX_WORKFLOW_BYTES
    path = _write(tmp_path, f"{name}.yml", text)
    started = time.monotonic()
    found = _found(path)
    assert time.monotonic() - started < 10
    assert found == [(rules.PRIVILEGED_TRIGGER, 1, Severity.LOW)]
