"""GitHub Actions workflow checks: pinning, token permissions, dangerous triggers, leaked
secrets and script injection (PO.3.2, PO.5.1; after OpenSSF Scorecard's Pinned-Dependencies,
Token-Permissions and Dangerous-Workflow checks).

:func:`check_workflow` checks one workflow file and :func:`check_workflows` every file in a
project's ``.github/workflows``. A workflow is parsed with PyYAML's safe loader into its node
tree only (nothing is constructed from tags, aliases are expanded under a node budget), so a
hostile file is bounded in size, nesting and time; one that cannot be parsed is reported under
``SSDF-ENV-011`` ("could not be checked"), never raised. Findings point at the file and line.
"""

from __future__ import annotations

import dataclasses
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ssdf_ai.code import env_rules as rules
from ssdf_ai.findings import Confidence, Finding, Location, Severity

MAX_WORKFLOW_BYTES = 1024 * 1024
# Nodes visited while expanding the tree: bounds alias bombs ("billion laughs").
MAX_NODES = 200_000
MAX_DEPTH = 64

_SHA = re.compile(r"^[0-9a-f]{40}$")
_DOCKER_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# Contexts an outsider controls (Scorecard Dangerous-Workflow; GitHub's "Security hardening for
# GitHub Actions", untrusted input).
_UNTRUSTED_INPUT = re.compile(
    r"github\.event\.("
    r"issue\.(title|body)"
    r"|pull_request\.(title|body|head\.(ref|label|repo\.default_branch))"
    r"|(comment|review|review_comment)\.body"
    r"|discussion\.(title|body)|discussion_comment\.body"
    r"|pages(\[[^\]]*\]|\.\*|\.\w+)\.page_name"
    r"|commits(\[[^\]]*\]|\.\*|\.\w+)\.(message|author\.(email|name))"
    r"|head_commit\.(message|author\.(email|name))"
    r"|workflow_run\.(head_branch|display_title|head_commit\.(message|author\.(email|name)))"
    r")|github\.head_ref",
    re.IGNORECASE,
)
# A checkout of the pull request's code (its head, merge commit or branch), not the base.
_UNTRUSTED_REF = re.compile(
    r"github\.event\.pull_request\.(head|merge_commit_sha|number)"
    r"|github\.event\.workflow_run\.(head|pull_requests)"
    r"|github\.head_ref|github\.event\.number|refs/pull/",
    re.IGNORECASE,
)
_GH_PR_CHECKOUT = re.compile(r"\bgh\s+pr\s+checkout\b")
_GIT_FETCH = re.compile(r"\bgit\s+(fetch|checkout)\b")
_PRIVILEGED = ("pull_request_target", "workflow_run")
_PRINT = re.compile(
    r"(^|[;&|(]\s*|\s)(echo|printf|print|puts|cat|Write-Host|Write-Output|console\.log)\b"
)
_WRITE = re.compile(r"(?<![0-9&])>{1,2}\s*[\"']?[$\w./~-]|\btee\b")
_OUTPUT_FILES = re.compile(r"GITHUB_(OUTPUT|ENV|STEP_SUMMARY|PATH)\b")
_PIPE_TO_COMMAND = re.compile(r"\|\s*(?!tee\b)[A-Za-z]")
_SET_X = re.compile(r"^[ \t]*set[ \t]+(-[a-wyzA-Z]*x|-o[ \t]+xtrace)\b", re.MULTILINE)
_UNSECURE = "ACTIONS_ALLOW_UNSECURE_COMMANDS"

KeyPath = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class WorkflowResult:
    """The outcome of checking one workflow.

    Attributes:
        path: The workflow as displayed in findings.
        checked: Whether it could be parsed and checked (``False``: see the findings).
        findings: What was found.
    """

    path: str
    checked: bool
    findings: tuple[Finding, ...]


class _UnparsableError(Exception):
    """A workflow that cannot be checked; the message says why."""


@dataclasses.dataclass
class _Doc:
    """A parsed workflow: plain data, and the line (and scalar style) of each key path."""

    data: Any
    lines: dict[KeyPath, int]
    styles: dict[KeyPath, str | None]

    def line(self, *path: str | int) -> int | None:
        """The line of the node at ``path``, else of its nearest ancestor that has one."""
        key: KeyPath = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def text_line(self, path: KeyPath, offset: int) -> int | None:
        """The line of line ``offset`` of the multi-line scalar at ``path``."""
        start = self.line(*path)
        if start is None:
            return None
        # A block scalar (| or >) starts on the line after its indicator.
        return start + offset + (1 if self.styles.get(path) in ("|", ">") else 0)


def _parse(text: str) -> _Doc:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise _UnparsableError(f"it is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise _UnparsableError("it is nested too deeply to parse") from None
    if root is None:
        raise _UnparsableError("it is empty")
    doc = _Doc(data=None, lines={}, styles={})
    budget = [MAX_NODES]
    doc.data = _convert(root, (), doc, budget)
    return doc


def _convert(node: Any, path: KeyPath, doc: _Doc, budget: list[int]) -> Any:
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise _UnparsableError(f"it expands to more than {MAX_NODES:,} nodes (an alias bomb?)")
    if len(path) > MAX_DEPTH:
        raise _UnparsableError(f"it is nested more than {MAX_DEPTH} levels deep")
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        doc.styles[path] = node.style
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), doc, budget) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # GitHub rejects non-scalar keys; nothing of ours is keyed so
            key = key_node.value
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            # The key's line, set first, wins over the value's: a block value starts later.
            result[key] = _convert(value_node, (*path, key), doc, budget)
        return result
    return None


def find_workflows(root: Path) -> list[Path]:
    """The workflow files in ``root/.github/workflows`` (``*.yml``, ``*.yaml``), sorted.

    Symbolic links are not followed: a linked workflow or folder is left out.
    """
    folder = root / ".github" / "workflows"
    try:
        for part in (root / ".github", folder):
            if not stat.S_ISDIR(part.lstat().st_mode):
                return []
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.suffix.lower() not in (".yml", ".yaml"):
            continue
        try:
            if stat.S_ISREG(entry.lstat().st_mode):
                found.append(entry)
        except OSError:
            continue
    return found


def check_workflows(root: Path, *, prefix: str = "") -> list[WorkflowResult]:
    """Check every workflow in ``root/.github/workflows``.

    Args:
        root: The repository (or project) folder.
        prefix: Put before each workflow's path relative to ``root`` in findings (``"sub/"``).

    Returns:
        One result per workflow file, in name order.
    """
    return [
        check_workflow(path, f"{prefix}{path.relative_to(root).as_posix()}")
        for path in find_workflows(root)
    ]


def check_workflow(path: Path, display: str) -> WorkflowResult:
    """Check one workflow file.

    Args:
        path: The file (read at most :data:`MAX_WORKFLOW_BYTES`; a symlink is not followed).
        display: Its path as findings show it.

    Returns:
        The result; a file that cannot be read or parsed gives one ``SSDF-ENV-011`` finding.
    """
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            return _unchecked(display, "it is not a regular file (symbolic links are not read)")
        if info.st_size > MAX_WORKFLOW_BYTES:
            return _unchecked(display, f"it is larger than {MAX_WORKFLOW_BYTES:,} bytes")
        data = path.read_bytes()[: MAX_WORKFLOW_BYTES + 1]
    except OSError as error:
        return _unchecked(display, f"it cannot be read: {error.strerror or error}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _unchecked(display, "it is not UTF-8 text")
    return check_workflow_text(text, display)


def check_workflow_text(text: str, display: str) -> WorkflowResult:
    """Check a workflow given as text (``display`` names it in findings)."""
    if len(text) > MAX_WORKFLOW_BYTES:
        return _unchecked(display, f"it is larger than {MAX_WORKFLOW_BYTES:,} characters")
    try:
        doc = _parse(text)
        if not isinstance(doc.data, dict):
            raise _UnparsableError("it is not a mapping of keys (on, jobs, ...)")
        if not isinstance(doc.data.get("jobs"), dict):
            raise _UnparsableError("it has no jobs mapping")
    except _UnparsableError as why:
        return _unchecked(display, str(why))
    findings = list(_Checker(doc, display).run())
    return WorkflowResult(path=display, checked=True, findings=tuple(findings))


def _unchecked(display: str, why: str) -> WorkflowResult:
    finding = _finding(
        rules.WORKFLOW_UNCHECKED, f"workflow not checked: {why}", display, None, None
    )
    return WorkflowResult(path=display, checked=False, findings=(finding,))


def _finding(
    rule_id: str,
    message: str,
    path: str,
    line: int | None,
    severity: Severity | None,
    confidence: Confidence = Confidence.HIGH,
) -> Finding:
    rule = rules.RULES[rule_id]
    return Finding(
        rule_id=rule_id,
        severity=severity or rule.severity,
        confidence=confidence,
        message=message,
        location=Location(path=path, line=line),
        cwe=rule.cwe,
        task_ids=rule.task_ids,
        remediation=rules.REMEDIATION[rule_id],
    )


def _triggers(on: Any) -> set[str]:
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {t for t in on if isinstance(t, str)}
    if isinstance(on, dict):
        return set(on)
    return set()


def expressions(text: str) -> Iterator[str]:
    """The contents of the ``${{ ... }}`` expressions in ``text``, in order.

    A scan with ``str.find`` rather than a lazy regex, which takes quadratic time on a line of
    unclosed ``${{``.
    """
    position = 0
    while True:
        start = text.find("${{", position)
        if start < 0:
            return
        end = text.find("}}", start + 3)
        if end < 0:
            return
        yield text[start + 3 : end]
        position = end + 2


def _is_secret_ref(text: str) -> bool:
    return any("secrets." in e or "secrets[" in e for e in expressions(text))


def _checks_out_pr(line: str) -> bool:
    if _GH_PR_CHECKOUT.search(line):
        return True
    match = _GIT_FETCH.search(line)
    return match is not None and "pull/" in line[match.end() :]


class _Checker:
    """The checks over one parsed workflow."""

    def __init__(self, doc: _Doc, display: str) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.display = display
        self.jobs: dict[str, Any] = {
            name: job for name, job in self.data["jobs"].items() if isinstance(job, dict)
        }

    def finding(
        self,
        rule_id: str,
        message: str,
        line: int | None,
        severity: Severity | None = None,
        confidence: Confidence = Confidence.HIGH,
    ) -> Finding:
        return _finding(rule_id, message, self.display, line, severity, confidence)

    def steps(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        for name, job in self.jobs.items():
            steps = job.get("steps")
            if isinstance(steps, list):
                for index, step in enumerate(steps):
                    if isinstance(step, dict):
                        yield name, index, step

    def run(self) -> Iterator[Finding]:
        yield from self.pinning()
        yield from self.permissions()
        yield from self.triggers()
        yield from self.scripts()
        yield from self.unsecure_commands()

    # Pinned-Dependencies -------------------------------------------------------------------
    def pinning(self) -> Iterator[Finding]:
        for name, job in self.jobs.items():
            if isinstance(job.get("uses"), str):
                yield from self._pin(job["uses"], ("jobs", name, "uses"))
        for name, index, step in self.steps():
            if isinstance(step.get("uses"), str):
                yield from self._pin(step["uses"], ("jobs", name, "steps", index, "uses"))

    def _pin(self, uses: str, path: KeyPath) -> Iterator[Finding]:
        ref = uses.strip()
        if ref.startswith("./"):
            return  # in this repository: pinned by the commit that runs it
        if ref.startswith("docker://"):
            if not _DOCKER_DIGEST.search(ref):
                yield self.finding(
                    rules.UNPINNED_ACTION,
                    f"container {ref!r} is not pinned by its sha256 digest",
                    self.doc.line(*path),
                )
            return
        version = ref.rpartition("@")[2] if "@" in ref else ""
        if not _SHA.match(version):
            what = f"at {version!r}" if version else "without a version"
            yield self.finding(
                rules.UNPINNED_ACTION,
                f"action {ref!r} is used {what}, not pinned by a full commit SHA",
                self.doc.line(*path),
            )

    # Token-Permissions ---------------------------------------------------------------------
    def permissions(self) -> Iterator[Finding]:
        if "permissions" in self.data:
            yield from self._permission(self.data["permissions"], ("permissions",), top=True)
        for name, job in self.jobs.items():
            if "permissions" in job:
                yield from self._permission(
                    job["permissions"], ("jobs", name, "permissions"), top=False
                )
            elif "permissions" not in self.data:
                yield self.finding(
                    rules.TOKEN_PERMISSIONS,
                    f"job {name!r} declares no permissions and neither does the workflow: "
                    "its token gets the repository's default, often read-write",
                    self.doc.line("jobs", name),
                )

    def _permission(self, value: Any, path: KeyPath, *, top: bool) -> Iterator[Finding]:
        where = "the workflow" if top else f"job {path[1]!r}"
        if isinstance(value, str) and value.strip() == "write-all":
            yield self.finding(
                rules.TOKEN_PERMISSIONS,
                f"{where} gives its token write-all permissions",
                self.doc.line(*path),
                Severity.HIGH,
            )
        elif top and isinstance(value, dict):
            writes = sorted(k for k, v in value.items() if isinstance(v, str) and v == "write")
            if writes:
                yield self.finding(
                    rules.TOKEN_PERMISSIONS,
                    f"the workflow grants {', '.join(writes)}: write at the top level, to every "
                    "job; grant writes only on the jobs that need them",
                    self.doc.line(*path),
                )

    # Dangerous-Workflow: triggers ----------------------------------------------------------
    def triggers(self) -> Iterator[Finding]:
        privileged = sorted(set(_PRIVILEGED) & _triggers(self.data.get("on")))
        if not privileged:
            return
        untrusted = list(self._untrusted_checkouts())
        for line, what in untrusted:
            yield self.finding(
                rules.UNTRUSTED_CHECKOUT,
                f"a {' / '.join(privileged)} workflow checks out the pull request's code "
                f"({what}) and runs with the base repository's secrets and token",
                line,
            )
        if not untrusted:
            yield self.finding(
                rules.PRIVILEGED_TRIGGER,
                f"the workflow runs on {' and '.join(privileged)} (secrets and a write token "
                "for events others can cause); no checkout of the pull request's code found",
                self.doc.line("on"),
            )

    def _untrusted_checkouts(self) -> Iterator[tuple[int | None, str]]:
        for name, index, step in self.steps():
            base: KeyPath = ("jobs", name, "steps", index)
            uses = step.get("uses")
            with_ = step.get("with")
            if (
                isinstance(uses, str)
                and uses.strip().lower().startswith("actions/checkout@")
                and isinstance(with_, dict)
            ):
                for key in ("ref", "repository"):
                    value = with_.get(key)
                    if isinstance(value, str) and _UNTRUSTED_REF.search(value):
                        yield self.doc.line(*base, "with", key), f"{key}: {value.strip()}"
            script = step.get("run")
            if isinstance(script, str):
                for offset, text in enumerate(script.splitlines()):
                    if _checks_out_pr(text):
                        line = self.doc.text_line((*base, "run"), offset)
                        yield line, text.strip()[:120]

    # Dangerous-Workflow: script injection; secrets --------------------------------------------
    def _secret_env(self, env: Any) -> set[str]:
        if not isinstance(env, dict):
            return set()
        return {k for k, v in env.items() if isinstance(v, str) and _is_secret_ref(v)}

    def scripts(self) -> Iterator[Finding]:
        top_env = self._secret_env(self.data.get("env"))
        for name, index, step in self.steps():
            base: KeyPath = ("jobs", name, "steps", index)
            scripts: list[tuple[KeyPath, str]] = []
            if isinstance(step.get("run"), str):
                scripts.append(((*base, "run"), step["run"]))
            with_ = step.get("with")
            uses = step.get("uses")
            if (
                isinstance(uses, str)
                and uses.strip().lower().startswith("actions/github-script@")
                and isinstance(with_, dict)
                and isinstance(with_.get("script"), str)
            ):
                scripts.append(((*base, "with", "script"), with_["script"]))
            env_names = (
                top_env
                | self._secret_env(self.jobs[name].get("env"))
                | self._secret_env(step.get("env"))
            )
            for path, script in scripts:
                yield from self._injection(path, script)
                if path[-1] == "run":
                    yield from self._leaks(path, script, env_names)

    def _injection(self, path: KeyPath, script: str) -> Iterator[Finding]:
        for offset, text in enumerate(script.splitlines()):
            for expression in expressions(text):
                match = _UNTRUSTED_INPUT.search(expression)
                if match:
                    yield self.finding(
                        rules.SCRIPT_INJECTION,
                        f"${{{{ {match.group(0)} }}}} (text an outsider controls) is "
                        "interpolated straight into the script",
                        self.doc.text_line(path, offset),
                    )

    def _leaks(self, path: KeyPath, script: str, env_names: set[str]) -> Iterator[Finding]:
        env_ref = (
            re.compile(r"\$\{?(" + "|".join(map(re.escape, sorted(env_names))) + r")\b")
            if env_names
            else None
        )
        for offset, text in enumerate(script.splitlines()):
            secret = _is_secret_ref(text) or (env_ref is not None and env_ref.search(text))
            if not secret:
                continue
            line = self.doc.text_line(path, offset)
            # ::add-mask:: is how a step hides a value from the log: printing it is the point.
            printing = _PRINT.search(text) is not None and "::add-mask::" not in text
            if printing and (_OUTPUT_FILES.search(text) or _WRITE.search(text)):
                yield self.finding(
                    rules.SECRET_LEAK,
                    "a secret is written to a file or to the job's outputs or environment",
                    line,
                )
            elif printing and not _PIPE_TO_COMMAND.search(text):
                yield self.finding(
                    rules.SECRET_LEAK,
                    "a secret is printed to the log (masking misses encoded or partial values)",
                    line,
                    Severity.MEDIUM,
                )
        if _SET_X.search(script) and (env_names or _is_secret_ref(script)):
            match = _SET_X.search(script)
            assert match is not None  # noqa: S101 - searched just above
            offset = script.count("\n", 0, match.start())
            yield self.finding(
                rules.SECRET_LEAK,
                "set -x traces every command, with secrets in reach of the step",
                self.doc.text_line(path, offset),
                Severity.MEDIUM,
            )

    def unsecure_commands(self) -> Iterator[Finding]:
        envs: list[tuple[KeyPath, Any]] = [(("env",), self.data.get("env"))]
        envs += [(("jobs", name, "env"), job.get("env")) for name, job in self.jobs.items()]
        envs += [
            (("jobs", name, "steps", index, "env"), step.get("env"))
            for name, index, step in self.steps()
        ]
        for path, env in envs:
            if not isinstance(env, dict) or _UNSECURE not in env:
                continue
            value = env[_UNSECURE]
            if isinstance(value, str) and value.strip().lower() in ("false", "0", ""):
                continue
            yield self.finding(
                rules.UNSECURE_COMMANDS,
                f"{_UNSECURE} is set: any printed text can set environment variables",
                self.doc.line(*path, _UNSECURE),
            )
        for name, index, step in self.steps():
            script = step.get("run")
            if isinstance(script, str):
                for offset, text in enumerate(script.splitlines()):
                    if _UNSECURE in text and "true" in text.lower():
                        yield self.finding(
                            rules.UNSECURE_COMMANDS,
                            f"a step sets {_UNSECURE}",
                            self.doc.text_line(("jobs", name, "steps", index, "run"), offset),
                        )
