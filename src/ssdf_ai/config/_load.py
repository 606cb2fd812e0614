"""Finding, reading and validating the project's configuration.

Validation reports every problem at once, each with ``file:line``, the key path, what is wrong
and what is allowed, and raises them together as one :class:`~ssdf_ai.errors.ConfigError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import functools
import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ssdf_ai._project import CONFIG_FILE, PYPROJECT_FILE, write_stamp
from ssdf_ai._project import pyproject_has_table as _pyproject_has_table
from ssdf_ai.config._locate import KeyPath, PathPart, TomlLocator, format_key_path
from ssdf_ai.config._model import (
    Area,
    Audience,
    Config,
    ConfigWarning,
    OrganizationKind,
    ProjectSection,
)
from ssdf_ai.errors import ConfigError
from ssdf_ai.findings import Severity

TOOL_TABLE: KeyPath = ("tool", "ssdf")

_MAX_CONFIG_BYTES = 1 << 20
_SYNTAX_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")

Problem = tuple[str, str, str | None]


class ConfigSource(enum.StrEnum):
    """Where a configuration came from."""

    SSDF_TOML = "ssdf.toml"
    PYPROJECT = "pyproject.toml"
    DEFAULTS = "defaults"


@dataclasses.dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration and where it came from.

    Attributes:
        config: The configuration, with defaults filled in.
        root: The project root that relative paths in the configuration refer to.
        path: The file it was read from; ``None`` when no file exists and defaults apply.
        source: Which kind of file it came from, or ``defaults``.
        warnings: Valid settings that weaken security or leave tasks unaddressed.
    """

    config: Config
    root: Path
    path: Path | None
    source: ConfigSource
    warnings: tuple[ConfigWarning, ...] = ()

    @property
    def from_file(self) -> bool:
        """Whether the configuration was read from a file (rather than defaults)."""
        return self.path is not None


def default_config(root: Path) -> Config:
    """The configuration that applies when a project has none.

    The project is named after its directory and treated as an AI model producer, the kind
    for which every task of the profile applies to the organisation itself (the strictest).

    Args:
        root: The project root.

    Returns:
        A configuration with every default.
    """
    name = Path(root).resolve().name or "project"
    return Config(project=ProjectSection(name=name, kind=OrganizationKind.AI_MODEL_PRODUCER))


def load_config(root: Path, *, today: dt.date | None = None) -> LoadedConfig:
    """Load and validate the configuration of the project at ``root``.

    ``root/ssdf.toml`` is used when it exists, else the ``[tool.ssdf]`` table of
    ``root/pyproject.toml``; when both exist ``ssdf.toml`` wins and a warning says so. With
    neither, the defaults apply (:func:`default_config`) and ``path`` is ``None``: callers
    that require a file, such as ``ssdf config validate``, check ``from_file``.

    Args:
        root: The project root (see :func:`find_project_root`).
        today: The date role reviews are judged against; defaults to today.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: If the configuration file cannot be read or is invalid.
    """
    root = Path(root)
    ssdf = root / CONFIG_FILE
    pyproject = root / PYPROJECT_FILE
    if ssdf.is_file():
        text = _read(ssdf)
        loaded = validate_text(text, ssdf, today=today)
        write_stamp(root, text.encode("utf-8"), CONFIG_FILE, light_settings(loaded.config))
        if pyproject.is_file() and _pyproject_has_table(pyproject):
            shadowed = ConfigWarning(
                where=display_path(pyproject),
                key="tool.ssdf",
                message=f"[tool.ssdf] in pyproject.toml is ignored because {CONFIG_FILE} exists",
                hint="keep the configuration in one place: remove one of the two",
            )
            loaded = dataclasses.replace(loaded, warnings=(shadowed, *loaded.warnings))
        return loaded
    if pyproject.is_file() and _pyproject_has_table(pyproject) is not False:
        text = _read(pyproject)
        loaded = validate_text(text, pyproject, today=today)
        write_stamp(root, text.encode("utf-8"), PYPROJECT_FILE, light_settings(loaded.config))
        return loaded
    return LoadedConfig(
        config=default_config(root), root=root, path=None, source=ConfigSource.DEFAULTS
    )


def light_settings(config: Config) -> dict[str, Any]:
    """The settings ``ssdf scan``'s light path needs, as recorded in the validation stamp.

    See :mod:`ssdf_ai._project`: a light command reads these for a configuration file that
    has already validated, instead of importing the models to validate it again.
    """
    return {
        "checks.fail_on": config.checks.fail_on.value,
        "checks.unsafe_allow_unscanned": config.checks.unsafe_allow_unscanned,
    }


def load_config_file(path: Path, *, today: dt.date | None = None) -> LoadedConfig:
    """Load and validate one configuration file: an ``ssdf.toml`` or a ``pyproject.toml``.

    Args:
        path: The file; a file named ``pyproject.toml`` is read for its ``[tool.ssdf]`` table.
        today: The date role reviews are judged against; defaults to today.

    Returns:
        The validated configuration; its root is the file's directory.

    Raises:
        ConfigError: If the file cannot be read or is invalid.
    """
    return validate_text(_read(Path(path)), Path(path), today=today)


def validate_text(
    text: str,
    path: Path,
    *,
    pyproject: bool | None = None,
    today: dt.date | None = None,
) -> LoadedConfig:
    """Validate configuration text; the heart of :func:`load_config`.

    Args:
        text: The TOML document.
        path: The file it came from (used in messages; its directory is the project root).
        pyproject: Whether the text is a ``pyproject.toml`` whose ``[tool.ssdf]`` table holds
            the configuration; by default, whether ``path`` is named ``pyproject.toml``.
        today: The date role reviews are judged against; defaults to today.

    Returns:
        The validated configuration with its warnings.

    Raises:
        ConfigError: With every problem found, each as ``(file:line: key, message, hint)``.
    """
    path = Path(path)
    if pyproject is None:
        pyproject = path.name == PYPROJECT_FILE
    # A command often needs the configuration in several places (the store's URL, the checks);
    # the same text is validated once. Messages show paths relative to the working directory,
    # so that is part of the key; a changed file has a changed text and is validated again.
    return _validate_cached(text, path, pyproject, today or dt.date.today(), os.getcwd())


@functools.lru_cache(maxsize=32)
def _validate_cached(
    text: str, path: Path, pyproject: bool, today: dt.date, cwd: str
) -> LoadedConfig:
    del cwd  # only part of the cache key
    shown = display_path(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, shown) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively; hostile nesting ends here.
        raise ConfigError(
            f"{shown} is nested too deeply to be a configuration file",
            where=shown,
            hint="a configuration needs at most a few levels of nesting; check the file",
        ) from None

    prefix: KeyPath = TOOL_TABLE if pyproject else ()
    data: Any = document
    if pyproject:
        data = (
            document.get("tool", {}).get("ssdf") if isinstance(document.get("tool"), dict) else None
        )
        if data is None:
            raise ConfigError(
                f"{shown} has no [tool.ssdf] table",
                where=shown,
                hint="add a [tool.ssdf] table, or create ssdf.toml with `ssdf init`",
            )
        if not isinstance(data, dict):
            raise ConfigError("[tool.ssdf] must be a table", where=shown)
        data = _with_pyproject_name(data, document)

    locator = TomlLocator(text)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        errors = _without_follow_ons(exc.errors(include_url=False))
        problems = [_problem(e, shown, locator, prefix) for e in errors]
        raise _invalid(shown, sorted(problems, key=_line_order)) from None

    problems = _semantic_problems(config, shown, locator, prefix)
    if problems:
        raise _invalid(shown, problems)
    source = ConfigSource.PYPROJECT if pyproject else ConfigSource.SSDF_TOML
    warnings = _warnings(config, shown, locator, prefix, today or dt.date.today())
    return LoadedConfig(
        config=config, root=path.parent, path=path, source=source, warnings=tuple(warnings)
    )


# -- reading --------------------------------------------------------------------------------


def _read(path: Path) -> str:
    shown = display_path(path)
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise ConfigError(f"{shown} is larger than 1 MiB; is it a configuration file?")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown} is not UTF-8 text: {exc.reason} at byte {exc.start}",
            where=shown,
            hint="TOML files must be encoded as UTF-8",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {shown}: {exc.strerror or exc}", where=shown) from None


def _with_pyproject_name(data: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """Default ``project.name`` to the name in pyproject's own ``[project]`` table."""
    package = document.get("project")
    name = package.get("name") if isinstance(package, dict) else None
    project = data.get("project", {})
    if not isinstance(name, str) or not isinstance(project, dict) or "name" in project:
        return data
    return {**data, "project": {**project, "name": name}}


def display_path(path: Path) -> str:
    """Show ``path`` relative to the working directory when it lies inside it.

    Args:
        path: A file or directory.

    Returns:
        The relative path, or ``path`` as given when it lies elsewhere.
    """
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


# -- problems -------------------------------------------------------------------------------


def _where(shown: str, locator: TomlLocator, prefix: KeyPath, loc: Sequence[PathPart]) -> str:
    line = locator.line_of((*prefix, *loc))
    return f"{shown}:{line}" if line else shown


def _syntax_error(exc: tomllib.TOMLDecodeError, shown: str) -> ConfigError:
    message = str(exc)
    where = shown
    match = _SYNTAX_POSITION.search(message)
    if match:
        where = f"{shown}:{match.group(1)}:{match.group(2)}"
        message = message[: match.start()]
    return ConfigError(
        f"{shown} is not valid TOML",
        problems=[(where, f"TOML syntax error: {message}", "see https://toml.io for the syntax")],
        where=shown,
    )


def _without_follow_ons(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop errors on a key whose own items already have errors (pydantic reports a list
    whose only item is invalid also as too short)."""
    locs = [tuple(e["loc"]) for e in errors]
    return [
        error
        for error, loc in zip(errors, locs, strict=True)
        if not any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)
    ]


def _line_order(problem: Problem) -> int:
    """Sort key: the line number in ``file:line: key`` (problems without one come first)."""
    match = re.search(r":(\d+)(?::|$)", problem[0].split(": ", 1)[0])
    return int(match.group(1)) if match else 0


def _invalid(shown: str, problems: list[Problem]) -> ConfigError:
    count = len(problems)
    return ConfigError(
        f"{shown} is invalid ({count} problem{'s' if count != 1 else ''})",
        problems=problems,
        where=shown,
        hint="fix the problems above, then run `ssdf config validate` again",
    )


# pydantic error type -> (what was expected, how to write it)
_TYPE_ERRORS: dict[str, tuple[str, str]] = {
    "bool_type": ("expected true or false", "write true or false, without quotes"),
    "int_type": ("expected an integer", "write a whole number, without quotes"),
    "int_from_float": ("expected an integer", "write a whole number, without quotes"),
    "string_type": ("expected a string", 'write a quoted string, such as "text"'),
    "list_type": ("expected an array", 'write an array, such as ["a", "b"]'),
    "tuple_type": ("expected an array", 'write an array, such as ["a", "b"]'),
    "dict_type": ("expected a table", "write a [table] or an inline table {key = value}"),
    "model_type": ("expected a table", "write a [table] or an inline table {key = value}"),
    "model_attributes_type": ("expected a table", "write a [table] or an inline table"),
    "date_type": ("expected a date", "write a TOML date without quotes: reviewed = 2025-01-31"),
    "date_from_datetime_inexact": (
        "expected a date without a time",
        "write a TOML date without quotes: reviewed = 2025-01-31",
    ),
}


def _problem(error: ErrorDetails, shown: str, locator: TomlLocator, prefix: KeyPath) -> Problem:
    loc: tuple[PathPart, ...] = tuple(error["loc"])
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    key_path = format_key_path((*prefix, *loc))
    where = _where(shown, locator, prefix, loc)
    where = f"{where}: {key_path}" if key_path else where
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    last = str(loc[-1]) if loc else ""
    hint: str | None = None
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        message = f"unknown key {last!r}"
        hint = _choices("allowed keys", last, allowed)
    elif kind == "missing":
        message = f"missing required key {last!r}"
    elif kind in ("enum", "literal_error"):
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"{_short(value)} is not an allowed value"
        hint = _choices("allowed values", str(value), allowed)
    elif kind.startswith("ssdf_"):
        message = error["msg"]
        hint = ctx.get("hint")
    elif kind == "too_short":
        message = f"needs at least {ctx.get('min_length', 1)} item(s)"
    elif kind == "string_too_short":
        message = "must not be empty"
    elif kind in _TYPE_ERRORS:
        expected, hint = _TYPE_ERRORS[kind]
        message = f"{expected}, got {_toml_type(value)} {_short(value)}"
    else:
        message = f"{error['msg']} (got {_toml_type(value)} {_short(value)})"
    return where, message, hint


def _choices(label: str, given: str, allowed: list[str]) -> str:
    text = f"{label}: {', '.join(allowed)}"
    close = difflib.get_close_matches(given, allowed, n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}? {text}" if close else text


def _allowed_keys(loc: Sequence[PathPart]) -> list[str]:
    """The keys the table at ``loc`` accepts, found by walking the model."""
    model: type[BaseModel] | None = Config
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _toml_type(value: Any) -> str:
    names = (
        (bool, "boolean"),
        (int, "integer"),
        (float, "float"),
        (str, "string"),
        (list, "array"),
        (dict, "table"),
        (dt.datetime, "datetime"),
        (dt.date, "date"),
        (dt.time, "time"),
    )
    for kind, name in names:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _semantic_problems(
    config: Config, shown: str, locator: TomlLocator, prefix: KeyPath
) -> list[Problem]:
    """Rules that span entries: names and ids must be unique."""
    problems: list[Problem] = []
    for table, attribute, items in (
        ("roles", "name", [r.name for r in config.roles]),
        ("requirements", "id", [r.id for r in config.requirements]),
        ("signers", "name", [s.name for s in config.signers]),
    ):
        first: dict[str, int] = {}
        for index, value in enumerate(items):
            if value in first:
                loc = (table, index, attribute)
                where = f"{_where(shown, locator, prefix, loc)}: {format_key_path((*prefix, *loc))}"
                problems.append(
                    (
                        where,
                        f"duplicate {attribute} {value!r}, already used by {table}[{first[value]}]",
                        f"give each entry of {table} a unique {attribute}",
                    )
                )
            else:
                first[value] = index
    roles = [r.name for r in config.roles]
    for index, name in enumerate(config.checks.approver_roles):
        if name not in roles:
            at: KeyPath = ("checks", "approver_roles", index)
            where = f"{_where(shown, locator, prefix, at)}: {format_key_path((*prefix, *at))}"
            allowed = ", ".join(repr(r) for r in roles) or "none defined"
            problems.append((where, f"{name!r} is not the name of a role", f"roles: {allowed}"))
    return problems


# -- warnings -------------------------------------------------------------------------------


def _warnings(
    config: Config, shown: str, locator: TomlLocator, prefix: KeyPath, today: dt.date
) -> list[ConfigWarning]:
    found: list[ConfigWarning] = []

    def warn(loc: KeyPath, message: str, hint: str | None, *task_ids: str) -> None:
        found.append(
            ConfigWarning(
                where=_where(shown, locator, prefix, loc),
                key=format_key_path((*prefix, *loc)) or "(top level)",
                message=message,
                hint=hint,
                task_ids=task_ids,
            )
        )

    checks = config.checks
    for name, field in type(checks).model_fields.items():
        if name.startswith("unsafe_") and getattr(checks, name):
            warn(
                ("checks", name),
                f"unsafe setting on: {field.description}",
                "remove it (or set it to false) unless a documented exception requires it",
                "PO.4.1",
                "PW.9.1",
            )
    if checks.fail_on > Severity.MEDIUM:
        warn(
            ("checks", "fail_on"),
            f"checks fail only on {checks.fail_on.value} findings or worse; lower findings pass",
            'the secure default is fail_on = "low"',
            "PO.4.1",
        )
    if not checks.require_approval_for:
        warn(
            ("checks", "require_approval_for"),
            "no finding needs a human approver to be waived",
            'consider require_approval_for = ["high", "critical"]',
            "PO.4.1",
        )
    if checks.evidence.max_age_days > 365:
        warn(
            ("checks", "evidence", "max_age_days"),
            f"evidence is accepted for {checks.evidence.max_age_days} days, more than a year",
            "the default is 90 days",
            "PO.4.2",
        )

    for name in ("models", "datasets", "code"):
        if not getattr(config.paths, name):
            warn(
                ("paths", name),
                f"paths.{name} is empty: no {name} will be checked",
                'remove the key to check the whole project (".")',
            )

    if not config.roles:
        warn(
            ("roles",),
            "no roles are defined",
            "add [[roles]] covering ai-model-development, ai-model-operations and data-science",
            "PO.2.1",
        )
    else:
        covered = {area for role in config.roles for area in role.covers}
        for area in Area:
            if area not in covered:
                warn(
                    ("roles",),
                    f"no role covers {area.value}",
                    f'add "{area.value}" to the covers of the role that takes it on',
                    "PO.2.1",
                )
    for index, role in enumerate(config.roles):
        if role.reviewed > today:
            warn(
                ("roles", index, "reviewed"),
                f"role {role.name!r} was reviewed on {role.reviewed}, which is in the future",
                "set reviewed to the date of the last review",
                "PO.2.1",
            )
        elif role.review_due < today:
            warn(
                ("roles", index, "reviewed"),
                f"review of role {role.name!r} was due on {role.review_due}",
                "review the role and its holders, then update reviewed",
                "PO.2.1",
            )

    if not config.requirements:
        warn(
            ("requirements",),
            "no security requirements are documented",
            "add [[requirements]] with their sources",
            "PO.1.1",
            "PO.1.2",
        )
    else:
        if not any(r.covers_ai for r in config.requirements):
            warn(
                ("requirements",),
                "no security requirement covers AI model development",
                "set covers_ai = true on the requirements that do",
                "PO.1.1",
            )
        if not any(Audience.THIRD_PARTY in r.applies_to for r in config.requirements):
            warn(
                ("requirements",),
                "no security requirement applies to third parties",
                'add "third-party" to applies_to of the requirements suppliers must meet',
                "PO.1.3",
            )

    if config.store.url and urlsplit(config.store.url).password:
        warn(
            ("store", "url"),
            "the store URL contains a password",
            "keep secrets out of configuration files; use a credentials file or IAM auth",
            "PO.5.1",
        )
    return found
