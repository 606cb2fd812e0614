"""The ``ssdf`` console script: a light path for ``ssdf scan`` used as a gate, else the CLI.

``ssdf scan --quiet --no-record PATH...`` is what a pipeline runs to gate a model on the exit
code, often once per file. Loading typer, rich and pydantic costs several times what scanning
a checkpoint does (the scan reads only a zip's directory and its pickle), so that invocation is
served here with the standard library and the scan engine alone. Every other invocation, and
any argument this parser does not accept exactly (help, a typo, an invalid value), goes to the
full command line, which gives the same result and its usual messages. The light path needs the
project's configuration already validated (the stamp in :mod:`ssdf_ai._project`); otherwise the
full path validates it, reports any problem, and leaves the stamp for next time.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

# Options of `ssdf scan` that take a value, and the flags the light path accepts.
_VALUED = ("--fail-on", "--project", "--max-depth", "--max-member-size", "--format", "-f")
_QUIET = ("--quiet", "-q")


@dataclasses.dataclass
class _Args:
    paths: list[Path] = dataclasses.field(default_factory=list)
    values: dict[str, str] = dataclasses.field(default_factory=dict)
    quiet: bool = False
    no_record: bool = False


def _parse(argv: list[str]) -> _Args | None:
    """The arguments of a gate-style ``ssdf scan``, or None to leave them to the full CLI."""
    args = _Args()
    items = iter(argv)
    only_paths = False
    for item in items:
        if only_paths or not item.startswith("-") or item == "-":
            args.paths.append(Path(item))
        elif item == "--":
            only_paths = True
        elif item in _QUIET:
            args.quiet = True
        elif item == "--no-record":
            args.no_record = True
        else:
            name, eq, value = item.partition("=")
            if name not in _VALUED or (eq and not name.startswith("--")):
                return None
            if not eq:
                value = next(items, "")
            name = "--format" if name == "-f" else name
            if not value or name in args.values:
                return None
            args.values[name] = value
    if not (args.paths and args.quiet and args.no_record):
        return None
    return args


def _natural(text: str | None, minimum: int) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < minimum:
        raise ValueError(text)
    return int(text)


def _settings(root: Path) -> dict[str, Any] | None:
    """The checks settings of the project at ``root``, or None when its configuration has not
    been validated in this form yet (the full path then validates it)."""
    from ssdf_ai._project import config_file, read_stamp
    from ssdf_ai.findings import Severity

    path = config_file(root)
    if path is None:
        # No configuration: the defaults (tests/cli/test_entry.py checks they match Config's).
        return {"checks.fail_on": "low", "checks.unsafe_allow_unscanned": False}
    try:
        data = path.read_bytes()
    except OSError:
        return None
    settings = read_stamp(root, data, path.name)
    if settings is None:
        return None
    fail_on = settings.get("checks.fail_on")
    allowed = settings.get("checks.unsafe_allow_unscanned")
    if fail_on not in {s.value for s in Severity} or not isinstance(allowed, bool):
        return None
    return settings


def scan_gate(argv: list[str]) -> int | None:
    """Run ``ssdf scan ARGV`` on the light path; return its exit code, or None to fall back.

    Args:
        argv: The arguments after ``scan``.

    Returns:
        0 or 1 as the full command would exit (2 after printing an error's diagnostics), or
        None when the invocation is not one the light path serves.
    """
    args = _parse(argv)
    if args is None or args.values.get("--format", "terminal").lower() != "terminal":
        return None
    from ssdf_ai._project import find_project_root
    from ssdf_ai.findings import Severity

    project = Path(args.values.get("--project", "."))
    try:
        max_depth = _natural(args.values.get("--max-depth"), 0)
        max_member = _natural(args.values.get("--max-member-size"), 1)
        fail_on = args.values.get("--fail-on")
        threshold = Severity(fail_on.lower()) if fail_on is not None else None
    except ValueError:
        return None
    if not project.is_dir():
        return None
    root = find_project_root(project)
    settings = _settings(root)
    if settings is None:
        return None

    from ssdf_ai.errors import Error, InputError
    from ssdf_ai.scan import rules
    from ssdf_ai.scan._types import ScanLimits
    from ssdf_ai.scan.engine import scan_paths

    limits = ScanLimits()
    if max_depth is not None:
        limits = dataclasses.replace(limits, max_depth=max_depth)
    if max_member is not None:
        limits = dataclasses.replace(limits, max_member_bytes=max_member)
    try:
        result = scan_paths(args.paths, root=root, limits=limits)
    except Error as error:
        sys.stderr.write(error.diagnostics() + "\n")
        return 2
    except OSError as error:
        problem = InputError(error.strerror or str(error), where=error.filename)
        sys.stderr.write(problem.diagnostics() + "\n")
        return 2
    threshold = threshold or Severity(settings["checks.fail_on"])
    allowed = bool(settings["checks.unsafe_allow_unscanned"])
    findings = rules.as_gated(result.findings, unscanned_allowed=allowed)
    return 1 if any(f.severity >= threshold for f in findings) else 0


def main() -> None:
    """Entry point of the ``ssdf`` console script."""
    argv = sys.argv[1:]
    if argv[:1] == ["scan"]:
        code = scan_gate(argv[1:])
        if code is not None:
            sys.exit(code)
    from ssdf_ai.cli import main as cli_main

    cli_main()
