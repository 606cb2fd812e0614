"""Which pickle globals are safe, dangerous or unknown: the policy and its classifier.

The policy is data (``policy.toml`` beside this module); this module loads it and answers one
question, :func:`classify`: given the module and (possibly dotted) name a pickle imports, is
it known safe, known dangerous, or unknown? Dangerous always wins over safe, and a name is
judged by everything it reaches: every prefix of its dotted path, and every attribute hop that
names a dangerous module (``tempfile._os.system`` reaches ``os.system``).
"""

from __future__ import annotations

import _compat_pickle
import dataclasses
import enum
import functools
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from ssdf_ai.errors import ConfigError

#: Module names the machine uses for globals it cannot name statically.
DYNAMIC_MODULE = "<dynamic>"
EXTENSION_MODULE = "<extension>"

# Package parts never covered by a `class_modules` entry: test helpers and vendored code.
_EXCLUDED_PARTS = frozenset({"tests", "testing", "_testing", "externals", "_build_utils"})


class VerdictKind(enum.StrEnum):
    """What the policy says about one global."""

    SAFE = "safe"
    DANGEROUS = "dangerous"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """The policy's verdict on one global.

    Attributes:
        kind: Safe, dangerous or unknown.
        reason: Why, in a few words (the policy entry's reason, naming what was matched).
    """

    kind: VerdictKind
    reason: str

    @property
    def dangerous(self) -> bool:
        """Whether the verdict is :attr:`VerdictKind.DANGEROUS`."""
        return self.kind is VerdictKind.DANGEROUS

    @property
    def safe(self) -> bool:
        """Whether the verdict is :attr:`VerdictKind.SAFE`."""
        return self.kind is VerdictKind.SAFE


_UNKNOWN = Verdict(
    VerdictKind.UNKNOWN, "not on the allowlist of globals known to be safe in ML artifacts"
)


@dataclasses.dataclass(frozen=True)
class Policy:
    """A loaded pickle policy.

    Attributes:
        dangerous: Dotted prefixes (modules or names) mapped to the reason they are dangerous;
            a path is dangerous when it equals a prefix or lies under it.
        safe_names: Exact dotted paths known safe, mapped to the reason.
        safe_class_modules: Package prefixes whose classes are safe, mapped to the reason.
    """

    dangerous: Mapping[str, str]
    safe_names: Mapping[str, str]
    safe_class_modules: Mapping[str, str]
    _top_dangerous: frozenset[str] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.dangerous or not (self.safe_names or self.safe_class_modules):
            # Fail closed: an empty policy would make every pickle look clean or unknown.
            raise ConfigError("the pickle policy needs both dangerous and safe entries")
        object.__setattr__(
            self, "_top_dangerous", frozenset(p.partition(".")[0] for p in self.dangerous)
        )

    @classmethod
    def from_toml(cls, text: str, *, where: str = "policy.toml") -> Policy:
        """Parse a policy from TOML text (the format of the shipped ``policy.toml``).

        Args:
            text: The TOML document.
            where: Where it came from, for error messages.

        Returns:
            The policy.

        Raises:
            ConfigError: The document is not valid TOML or breaks the policy schema.
        """
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", where=where) from exc
        if doc.get("version") != 1:
            raise ConfigError("unsupported pickle policy version (expected 1)", where=where)
        dangerous: dict[str, str] = {}
        safe_names: dict[str, str] = {}
        safe_classes: dict[str, str] = {}
        for i, entry in enumerate(_entries(doc, "dangerous", where)):
            reason = _reason(entry, f"dangerous[{i}]", where)
            for key in ("modules", "names"):
                for item in _strings(entry, key, f"dangerous[{i}].{key}", where):
                    dangerous.setdefault(item, reason)
            _no_extra(entry, {"reason", "modules", "names"}, f"dangerous[{i}]", where)
        for i, entry in enumerate(_entries(doc, "safe", where)):
            reason = _reason(entry, f"safe[{i}]", where)
            for item in _strings(entry, "names", f"safe[{i}].names", where):
                safe_names.setdefault(item, reason)
            for item in _strings(entry, "class_modules", f"safe[{i}].class_modules", where):
                safe_classes.setdefault(item, reason)
            _no_extra(entry, {"reason", "names", "class_modules"}, f"safe[{i}]", where)
        return cls(dangerous=dangerous, safe_names=safe_names, safe_class_modules=safe_classes)

    def classify(self, module: str, name: str) -> Verdict:
        """Classify the global ``module.name``; see :func:`classify`."""
        return _classify(self, module, name)


def _entries(doc: Mapping[str, object], key: str, where: str) -> list[Mapping[str, object]]:
    entries = doc.get(key)
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"the policy needs a non-empty [[{key}]] array", where=where)
    if not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"every [[{key}]] entry must be a table", where=where)
    return entries


def _reason(entry: Mapping[str, object], at: str, where: str) -> str:
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{at} needs a reason", where=where)
    return reason


def _strings(entry: Mapping[str, object], key: str, at: str, where: str) -> Iterable[str]:
    items = entry.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise ConfigError(f"{at} must be a list of non-empty strings", where=where)
    return items


def _no_extra(entry: Mapping[str, object], allowed: set[str], at: str, where: str) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        raise ConfigError(f"{at} has unknown keys: {', '.join(extra)}", where=where)


@functools.cache
def default_policy() -> Policy:
    """The policy shipped with ssdf-ai (``ssdf_ai/scan/pickle/policy.toml``), loaded once."""
    # Beside this module in any normal install; importlib.resources (which costs as much to
    # import as a scan of a checkpoint takes) only for a zipped one.
    here = Path(__file__).with_name("policy.toml")
    if here.is_file():
        text = here.read_text(encoding="utf-8")
    else:
        from importlib import resources

        package = resources.files("ssdf_ai.scan.pickle")
        text = package.joinpath("policy.toml").read_text(encoding="utf-8")
    return Policy.from_toml(text, where="ssdf_ai/scan/pickle/policy.toml")


def classify(module: str, name: str, *, policy: Policy | None = None) -> Verdict:
    """Classify one global a pickle imports.

    Names are judged by everything they reach: the full dotted path ``module.name``, every
    prefix of it, and every attribute hop that names a dangerous module (``tempfile`` +
    ``_os.system`` reaches ``os.system``). Python 2 names are mapped as the unpickler maps
    them (``__builtin__`` is ``builtins``), surrounding whitespace is ignored, and a special
    (dunder) attribute reached through a dotted name is dangerous.

    Args:
        module: The module, as the pickle names it.
        name: The (possibly dotted) name inside the module; empty for the module itself.
        policy: The policy to apply; the shipped one by default.

    Returns:
        The verdict, with the reason of the policy entry that decided it.
    """
    return _classify(policy or default_policy(), module, name)


def _classify(policy: Policy, module: str, name: str) -> Verdict:
    if module == DYNAMIC_MODULE:
        return Verdict(
            VerdictKind.DANGEROUS,
            "its module or name is computed while loading, so it can reach anything",
        )
    if module == EXTENSION_MODULE:
        return Verdict(
            VerdictKind.DANGEROUS,
            "an extension code the pickle does not register: the loading process's copyreg "
            "registry decides what it imports",
        )
    candidates = _candidates(module, name)
    for mod, parts in candidates:
        verdict = _dangerous(policy, mod, parts)
        if verdict is not None:
            return verdict
    # Safe only when every reading of the name is safe (original and Python 2 mapping alike,
    # except an original that cannot exist in Python 3).
    mapped_mod, mapped_parts = candidates[-1]
    verdict = _safe(policy, mapped_mod, mapped_parts)
    return verdict if verdict is not None else _UNKNOWN


def _candidates(module: str, name: str) -> list[tuple[str, list[str]]]:
    mod = ".".join(p.strip() for p in module.split("."))
    parts = [p.strip() for p in name.split(".")] if name else []
    out = [(mod, parts)]
    key = (mod, parts[0] if parts else "")
    mapped = _compat_pickle.NAME_MAPPING.get(key)
    if mapped is not None:
        out.append((mapped[0], [mapped[1], *parts[1:]]))
    elif mod in _compat_pickle.IMPORT_MAPPING:
        out.append((_compat_pickle.IMPORT_MAPPING[mod], parts))
    elif mod in ("__builtins__", "__builtin__"):
        out.append(("builtins", parts))
    return out


def _dangerous(policy: Policy, module: str, parts: list[str]) -> Verdict | None:
    dangerous = policy.dangerous
    # The module itself and every package above it.
    path = ""
    for piece in module.split("."):
        path = f"{path}.{piece}" if path else piece
        if path in dangerous:
            return _danger(dangerous[path], path)
    # Each attribute hop: the path so far, a dunder, or a hop that names a dangerous module.
    for i, part in enumerate(parts):
        path = f"{path}.{part}"
        if path in dangerous:
            return _danger(dangerous[path], path)
        if i > 0 and len(part) > 4 and part.startswith("__") and part.endswith("__"):
            full = f"{module}.{'.'.join(parts)}"
            if full not in policy.safe_names:
                return Verdict(
                    VerdictKind.DANGEROUS,
                    f"reaches the special attribute {part} through an attribute chain",
                )
        alias = part.strip("_") if part.startswith("_") else part
        if alias in policy._top_dangerous or alias == "builtins":
            rest = parts[i + 1 :]
            hop = _dangerous(policy, alias, rest)
            if hop is not None:
                return Verdict(hop.kind, f"{hop.reason} (reached through {module}.{part})")
    return None


def _danger(reason: str, matched: str) -> Verdict:
    return Verdict(VerdictKind.DANGEROUS, f"{reason} ({matched})")


def _safe(policy: Policy, module: str, parts: list[str]) -> Verdict | None:
    full = f"{module}.{'.'.join(parts)}" if parts else module
    reason = policy.safe_names.get(full)
    if reason is not None:
        return Verdict(VerdictKind.SAFE, reason)
    if len(parts) != 1 or not _class_like(parts[0]):
        return None
    pieces = module.split(".")
    if _EXCLUDED_PARTS.intersection(pieces):
        return None
    path = ""
    for piece in pieces:
        path = f"{path}.{piece}" if path else piece
        reason = policy.safe_class_modules.get(path)
        if reason is not None:
            return Verdict(VerdictKind.SAFE, reason)
    return None


def _class_like(name: str) -> bool:
    # PEP 8 class names start with a capital (CamelCase, or acronyms such as PCA); functions,
    # private and special names do not.
    return name.isidentifier() and name[0].isupper()
