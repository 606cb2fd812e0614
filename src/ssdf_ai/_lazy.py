"""Lazy re-exports for package facades: names are imported on first use, not at import time.

A facade such as ``ssdf_ai.store`` lists its public names and the modules that define them;
``import ssdf_ai.store`` then costs nothing, and ``ssdf_ai.store.EvidenceStore`` imports
SQLAlchemy only when asked for. This keeps ``ssdf --help`` fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build a module's ``__getattr__`` and ``__dir__`` for lazily imported names.

    Args:
        package: The facade's ``__name__``.
        names: Public name -> absolute module that defines it.
        namespace: The facade's ``globals()``; a resolved name is cached there.

    Returns:
        ``(__getattr__, __dir__)`` to assign in the facade.
    """

    def getattr_(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *names})

    return getattr_, dir_
