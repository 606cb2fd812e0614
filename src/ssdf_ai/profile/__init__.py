"""The SP 800-218A catalog as data: load it, look things up, export it.

A short tour (names are imported lazily, so ``import ssdf_ai.profile`` is cheap)::

    from ssdf_ai.profile import load_catalog, Priority

    catalog = load_catalog()                      # 4 groups, 20 practices, 48 tasks, 86 items
    task = catalog.task("PW.3.1")                 # or catalog.get(any id)
    catalog.parent_of("PW.3.1.R2")                # the task PW.3.1
    high = catalog.tasks(group="PW", priority=Priority.HIGH)

- Models (frozen pydantic): :class:`Catalog` -> :class:`Group` -> :class:`Practice` ->
  :class:`Task` -> :class:`Item`, with :class:`References`; enums :class:`Priority`,
  :class:`Tag`, :class:`ItemKind`.
- Loading: :func:`load_catalog` (the packaged copy, cached), :func:`read_catalog`,
  :func:`parse_catalog`.
- Exports: :func:`to_json`, :func:`to_csv`, :func:`to_markdown`, and in
  :mod:`ssdf_ai.profile.oscal` an OSCAL catalog and an OSCAL profile of SSDF 1.1.
- Reports for the command line: :class:`ProfileListReport` (``profile-list``) and
  :class:`ProfileShowReport` (``profile-show``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.profile._enums import ExportFormat, ItemKind, OscalKind, Priority, Tag
    from ssdf_ai.profile._export import CSV_COLUMNS, to_csv, to_json, to_markdown
    from ssdf_ai.profile._loader import load_catalog, parse_catalog, read_catalog
    from ssdf_ai.profile._models import (
        Catalog,
        Group,
        Item,
        Node,
        Practice,
        References,
        Task,
        normalize_id,
    )
    from ssdf_ai.profile._reports import (
        NodeRef,
        ProfileFilters,
        ProfileListReport,
        ProfileShowReport,
        ProfileSummary,
    )

_LAZY = {
    "ExportFormat": "_enums",
    "ItemKind": "_enums",
    "OscalKind": "_enums",
    "Priority": "_enums",
    "Tag": "_enums",
    "CSV_COLUMNS": "_export",
    "to_csv": "_export",
    "to_json": "_export",
    "to_markdown": "_export",
    "load_catalog": "_loader",
    "parse_catalog": "_loader",
    "read_catalog": "_loader",
    "Catalog": "_models",
    "Group": "_models",
    "Item": "_models",
    "Node": "_models",
    "Practice": "_models",
    "References": "_models",
    "Task": "_models",
    "normalize_id": "_models",
    "NodeRef": "_reports",
    "ProfileFilters": "_reports",
    "ProfileListReport": "_reports",
    "ProfileShowReport": "_reports",
    "ProfileSummary": "_reports",
}

__all__ = [
    "CSV_COLUMNS",
    "Catalog",
    "ExportFormat",
    "Group",
    "Item",
    "ItemKind",
    "Node",
    "NodeRef",
    "OscalKind",
    "Practice",
    "Priority",
    "ProfileFilters",
    "ProfileListReport",
    "ProfileShowReport",
    "ProfileSummary",
    "References",
    "Tag",
    "Task",
    "load_catalog",
    "normalize_id",
    "parse_catalog",
    "read_catalog",
    "to_csv",
    "to_json",
    "to_markdown",
]


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"{__name__}.{module}" for name, module in _LAZY.items()}, globals()
)
