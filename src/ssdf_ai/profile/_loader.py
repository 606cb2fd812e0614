"""Loading the profile: the copy shipped in the package, or a file of the same shape."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from ssdf_ai.errors import InputError
from ssdf_ai.profile._models import Catalog

_PACKAGE_DATA = "data/profile.yaml"


@functools.cache
def load_catalog() -> Catalog:
    """Return the SP 800-218A catalog shipped with ssdf-ai (parsed once, then cached).

    Returns:
        The catalog (frozen; safe to share).

    Raises:
        InputError: If the packaged data is damaged (a broken installation).
    """
    text = resources.files("ssdf_ai.profile").joinpath(_PACKAGE_DATA).read_text(encoding="utf-8")
    return parse_catalog(text, where=f"ssdf_ai/profile/{_PACKAGE_DATA}")


def read_catalog(path: str | Path) -> Catalog:
    """Read a catalog from a YAML file shaped like the packaged ``profile.yaml``.

    Args:
        path: The file.

    Returns:
        The catalog.

    Raises:
        InputError: If the file cannot be read, is not YAML, or does not fit the model.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read profile data: {exc}", where=path) from exc
    return parse_catalog(text, where=str(path))


def parse_catalog(text: str, *, where: str = "<string>") -> Catalog:
    """Parse and validate catalog YAML (with ``yaml.safe_load``: no object construction).

    Args:
        text: The YAML document.
        where: The name to use in error messages.

    Returns:
        The catalog.

    Raises:
        InputError: If the text is not YAML or does not fit the model; the message names the
            first offending field.
    """
    import yaml
    from pydantic import ValidationError

    try:
        # The C loader when libyaml is there (several times faster); both are safe loaders.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        # ssdf: ignore[SSDF-CODE-005] CSafeLoader or SafeLoader, both safe
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, never yaml.Loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        location = f"{where}:{mark.line + 1}" if mark is not None else where
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"profile data is not valid YAML: {problem}", where=location) from exc
    if not isinstance(data, dict):
        raise InputError("profile data must be a mapping with 'source' and 'groups'", where=where)
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        path = ".".join(str(part) for part in first["loc"])
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise InputError(
            f"profile data does not fit the catalog model: {first['msg']}{more}",
            where=f"{where}: {path}" if path else where,
            hint="compare the file with the profile.yaml shipped in ssdf_ai/profile/data/",
        ) from exc
