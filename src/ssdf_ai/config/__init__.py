"""The project's configuration: ``ssdf.toml``, or ``[tool.ssdf]`` in ``pyproject.toml``.

A tour:

- :func:`find_project_root` walks up from a directory to the one holding the configuration.
- :func:`load_config` reads and validates it (``ssdf.toml`` wins over ``pyproject.toml``), or
  returns the defaults when the project has none; :func:`load_config_file` reads one named
  file; :func:`validate_text` validates text and is what both use.
- :class:`LoadedConfig` carries the :class:`Config` model, the file it came from and the
  :class:`ConfigWarning` list: valid settings that weaken security (every ``unsafe_…`` switch
  that is on, a raised ``fail_on``) or leave an SP 800-218A task unaddressed (no role covering
  data science, an overdue role review).
- An invalid configuration raises one :class:`~ssdf_ai.errors.ConfigError` listing every
  problem, each with ``file:line``, the key path, what is wrong and what is allowed.
- :func:`init_config` writes a commented ``ssdf.toml`` for ``ssdf init``.

Every default is the strictest sensible setting (PW.9.1): ``fail_on = "low"``, evidence older
than 90 days is stale, high and critical findings need a human approver to be waived, and
paths default to the whole project so that nothing escapes the checks.
"""

from __future__ import annotations

from ssdf_ai._project import CONFIG_FILE, PYPROJECT_FILE, find_project_root
from ssdf_ai.config._ids import PRACTICE_IDS, TASK_IDS
from ssdf_ai.config._init import InitResult, detect_paths, init_config, render_config
from ssdf_ai.config._load import (
    ConfigSource,
    LoadedConfig,
    default_config,
    load_config,
    load_config_file,
    validate_text,
)
from ssdf_ai.config._model import (
    SELF,
    Area,
    Audience,
    ChecksSection,
    Config,
    ConfigWarning,
    DataSection,
    EvidenceChecks,
    ModelEntry,
    OrganizationKind,
    PathsSection,
    ProjectSection,
    Requirement,
    RequirementSource,
    Role,
    StoreSection,
)
from ssdf_ai.config._reports import (
    ConfigShowReport,
    ConfigValidationReport,
    InitReport,
    RoleSummary,
)
from ssdf_ai.config._toml import dump_toml

__all__ = [
    "CONFIG_FILE",
    "PRACTICE_IDS",
    "PYPROJECT_FILE",
    "SELF",
    "TASK_IDS",
    "Area",
    "Audience",
    "ChecksSection",
    "Config",
    "ConfigShowReport",
    "ConfigSource",
    "ConfigValidationReport",
    "ConfigWarning",
    "DataSection",
    "EvidenceChecks",
    "InitReport",
    "InitResult",
    "LoadedConfig",
    "ModelEntry",
    "OrganizationKind",
    "PathsSection",
    "ProjectSection",
    "Requirement",
    "RequirementSource",
    "Role",
    "RoleSummary",
    "StoreSection",
    "default_config",
    "detect_paths",
    "dump_toml",
    "find_project_root",
    "init_config",
    "load_config",
    "load_config_file",
    "render_config",
    "validate_text",
]
