"""Check a Keras model's configuration for code that loading it would run.

A Keras model is stored as a JSON description of its layers (the ``config.json`` member of a
``.keras`` zip, or the ``model_config`` root attribute of a legacy ``.h5`` file) next to its
weights. The weights are plain arrays; the configuration is where code can hide:

* a ``Lambda`` layer whose function was saved as serialized Python bytecode (Keras 3:
  ``{"class_name": "__lambda__", "config": {"code": <base64 marshal>}}``; Keras 2:
  ``"function": [<base64 marshal>, defaults, closure]`` with ``"function_type": "lambda"``).
  Loading it with ``safe_mode=False`` (and always in Keras 2) unmarshals and runs that code:
  ``SSDF-SCAN-016``, critical. The code is never unmarshalled here; its base64 text is
  decoded only to look for telling names (``os``, ``system``, ``exec``...) for the message.
* an object from a module outside Keras (``"module": "mypackage.layers"``), or a custom
  registered object (``"registered_name": "mypkg>MyLayer"``, or a legacy ``class_name`` of
  that form): loading imports that module or needs that class: ``SSDF-SCAN-017``, medium
  (critical when the module is one that runs commands, such as ``os`` or ``subprocess``).

The JSON is parsed strictly and within bounds (size, nesting depth); content that cannot be
parsed is ``SSDF-SCAN-003``. Pure functions: nothing is imported from the model, nothing is
executed, Keras is never needed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ssdf_ai.errors import MissingExtraError
from ssdf_ai.findings import Finding, Severity
from ssdf_ai.scan import rules
from ssdf_ai.scan._types import MIB, ScanLimits

__all__ = [
    "KERAS_MODULE_PREFIXES",
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_DEPTH",
    "check_keras_config",
    "check_keras_h5",
]

MAX_CONFIG_BYTES = 64 * MIB
MAX_CONFIG_DEPTH = 256
_MAX_FINDINGS = 50
_MAX_CODE_CHARS = 16 * MIB  # base64 text decoded to enrich a Lambda finding

# Modules whose objects Keras itself provides; anything else is imported from elsewhere.
KERAS_MODULE_PREFIXES = ("keras", "keras_hub", "keras_nlp", "keras_cv", "tf_keras")
_KERAS_DOTTED = ("tensorflow.keras", "tensorflow.python.keras")

# Modules whose functions run commands, touch files or evaluate code: an object from one of
# them in a config is a payload, not a custom layer.
_DANGEROUS_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "subprocess",
        "builtins",
        "__builtin__",
        "shutil",
        "socket",
        "sys",
        "importlib",
        "runpy",
        "pty",
        "code",
        "pickle",
        "marshal",
        "ctypes",
    }
)

# Names whose presence in a Lambda's bytecode is worth mentioning (never proof either way).
_TELLING_NAMES = (
    b"system",
    b"popen",
    b"subprocess",
    b"exec",
    b"eval",
    b"__import__",
    b"compile",
    b"open",
    b"socket",
    b"os",
    b"getattr",
    b"builtins",
)
_NAME_RE = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{1,40}")

_MODEL_CONFIG = "model_config"
_TRAINING_CONFIG = "training_config"


class _Report:
    def __init__(self, path: str, where: str | None) -> None:
        self.path = path
        self.where = where
        self.items: list[Finding] = []
        self.dropped = 0
        self.seen: set[int] = set()  # Lambda configs already reported

    def add(
        self,
        rule_id: str,
        message: str,
        *,
        layer: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        if len(self.items) >= _MAX_FINDINGS:
            self.dropped += 1
            return
        parts = [p for p in (self.where, f"layer {layer}" if layer else None) if p]
        self.items.append(
            rules.finding(
                rule_id,
                message,
                path=self.path,
                address=", ".join(parts) or None,
                severity=severity,
            )
        )

    def done(self) -> list[Finding]:
        if self.dropped:
            self.items.append(
                rules.finding(
                    rules.CUSTOM_OBJECT,
                    f"{self.dropped} more objects in the Keras config were not listed one by one",
                    path=self.path,
                    address=self.where,
                )
            )
        return self.items


def check_keras_config(config: bytes | str, *, path: str, member: str | None) -> list[Finding]:
    """Check a Keras model config (JSON) for serialized code and objects from outside Keras.

    Args:
        config: The JSON: a ``.keras`` archive's ``config.json`` or a legacy ``.h5`` file's
            ``model_config`` / ``training_config`` attribute.
        path: The scanned file, for findings.
        member: Where the JSON came from inside the file (``config.json``,
            ``attribute model_config``), for findings; ``None`` when it is the whole file.

    Returns:
        ``SSDF-SCAN-016`` (critical) per Lambda holding bytecode or object from a module that
        runs commands, ``SSDF-SCAN-017`` (medium) per object from outside Keras, and
        ``SSDF-SCAN-003`` when the JSON cannot be parsed within bounds; empty for a config
        made of Keras objects only.
    """
    where = None if member is None else (member if " " in member else f"member {member}")
    report = _Report(path, where)
    data = _parse(config, report)
    if data is not None:
        for node, layer in _walk(data):
            _check_object(node, layer, report)
    return report.done()


def check_keras_h5(f_path: Path | BinaryIO, *, path: str, limits: ScanLimits) -> list[Finding]:
    """Check the model configuration stored in a legacy Keras HDF5 (``.h5``) file.

    Only the root attributes ``model_config`` and ``training_config`` are read (with h5py,
    which executes nothing); the weights are not.

    Args:
        f_path: The file on disk, or a seekable binary file object (h5py reads either).
        path: The scanned file, relative to where the scan started, for findings.
        limits: ``max_header_bytes`` bounds the size of each attribute read.

    Returns:
        The findings of :func:`check_keras_config` for each attribute, plus ``SSDF-SCAN-003``
        when the file or an attribute cannot be read.

    Raises:
        MissingExtraError: h5py is not installed (extra ``scan-h5``).
    """
    try:
        import h5py  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MissingExtraError("scan-h5", "h5py") from exc

    cap = min(limits.max_header_bytes, MAX_CONFIG_BYTES)
    findings: list[Finding] = []
    try:
        with h5py.File(f_path, "r") as h5:
            attrs = h5.attrs
            names = set(attrs.keys())
            for name in (_MODEL_CONFIG, _TRAINING_CONFIG):
                if name not in names:
                    continue
                where = f"attribute {name}"
                size = attrs.get_id(name).get_storage_size()
                if size > cap:
                    findings.append(
                        rules.finding(
                            rules.UNPARSEABLE,
                            f"the {name} attribute is {size} bytes, above the limit of {cap}; "
                            "it was not checked",
                            path=path,
                            address=where,
                        )
                    )
                    continue
                raw = _attr_bytes(attrs[name])
                if raw is not None and len(raw) > cap:
                    findings.append(
                        rules.finding(
                            rules.UNPARSEABLE,
                            f"the {name} attribute is {len(raw)} bytes, above the limit of "
                            f"{cap}; it was not checked",
                            path=path,
                            address=where,
                        )
                    )
                    continue
                if raw is None:
                    findings.append(
                        rules.finding(
                            rules.UNPARSEABLE,
                            f"the {name} attribute is not a JSON string",
                            path=path,
                            address=where,
                        )
                    )
                    continue
                findings.extend(check_keras_config(raw, path=path, member=where))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        findings.append(
            rules.finding(
                rules.UNPARSEABLE,
                f"the HDF5 file could not be read ({type(exc).__name__}: {exc})",
                path=path,
            )
        )
    return findings


def _attr_bytes(value: object) -> bytes | None:
    """The bytes of an HDF5 string attribute (str, bytes, NumPy scalar or 1-element array)."""
    shape = getattr(value, "shape", None)
    if shape is not None and shape != ():
        if getattr(value, "size", 0) != 1:
            return None
        value = value.reshape(()).item()  # type: ignore[attr-defined]
    elif shape == ():
        value = value.item()  # type: ignore[attr-defined]
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            return None
    return None


# --------------------------------------------------------------------------------------------
# parsing


def _depth(raw: bytes) -> int:
    """Deepest nesting of ``[`` / ``{`` outside strings, without building anything."""
    stripped = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", raw, flags=re.DOTALL)
    brackets = stripped.translate(None, bytes(c for c in range(256) if c not in b"[]{}"))
    depth = deepest = 0
    for c in brackets:
        if c in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _parse(config: bytes | str, report: _Report) -> Any:
    raw = config.encode("utf-8", "surrogatepass") if isinstance(config, str) else config
    if len(raw) > MAX_CONFIG_BYTES:
        report.add(
            rules.UNPARSEABLE,
            f"the Keras config is {len(raw)} bytes, above the limit of {MAX_CONFIG_BYTES}; "
            "it was not checked",
        )
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add(rules.UNPARSEABLE, f"the Keras config is not UTF-8 (byte {exc.start})")
        return None
    deepest = _depth(raw)
    if deepest > MAX_CONFIG_DEPTH:
        report.add(
            rules.UNPARSEABLE,
            f"the Keras config nests {deepest} levels deep, above the limit of "
            f"{MAX_CONFIG_DEPTH}; it was not checked",
        )
        return None
    duplicates: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                duplicates.append(key)
            result[key] = value  # the last one wins, as json.loads (and Keras) keeps it
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError) as exc:
        report.add(rules.UNPARSEABLE, f"the Keras config is not valid JSON ({exc})")
        return None
    if duplicates:
        report.add(
            rules.UNPARSEABLE,
            f"the Keras config repeats the key {duplicates[0]!r} ({len(duplicates)} repeated "
            "keys): readers keep different copies; the last copy was checked",
        )
    if not isinstance(data, dict):
        report.add(rules.UNPARSEABLE, "the Keras config is not a JSON object")
        return None
    return data


def _walk(root: Any) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every JSON object in the config with the name of the innermost layer holding it."""
    stack: list[tuple[Any, str | None]] = [(root, None)]
    while stack:
        node, layer = stack.pop()
        if isinstance(node, dict):
            inner = node.get("config")
            name = inner.get("name") if isinstance(inner, dict) else None
            if isinstance(name, str) and "class_name" in node:
                layer = f"{layer}/{name}" if layer else name
            yield node, layer
            stack.extend((value, layer) for value in reversed(node.values()))
        elif isinstance(node, list):
            stack.extend((value, layer) for value in reversed(node))


# --------------------------------------------------------------------------------------------
# checks


def _in_keras(module: str) -> bool:
    top = module.split(".", 1)[0]
    return top in KERAS_MODULE_PREFIXES or any(
        module == prefix or module.startswith(prefix + ".") for prefix in _KERAS_DOTTED
    )


def _check_object(node: dict[str, Any], layer: str | None, report: _Report) -> None:
    class_name = node.get("class_name")
    config = node.get("config")
    if class_name == "__lambda__":
        code = config.get("code") if isinstance(config, dict) else None
        report.add(
            rules.EMBEDDED_CODE,
            f"a Lambda function is stored as serialized Python bytecode{_hint(code)}; "
            "loading the model with safe_mode=False runs it",
            layer=layer,
        )
        return
    _check_legacy_lambda(node, layer, report)
    module = node.get("module")
    registered = node.get("registered_name")
    if module == "builtins" and class_name == "function":
        # How Keras 3 writes every named function (its own ``relu`` as well as a user's):
        # the loader looks the name up among Keras's functions and the caller's
        # custom_objects, and imports nothing.
        return
    if isinstance(module, str) and module and not _in_keras(module):
        top = module.split(".", 1)[0]
        shown = (
            f"{module}.{config}"
            if class_name == "function" and isinstance(config, str)
            else (f"{module}.{class_name}" if isinstance(class_name, str) else module)
        )
        if isinstance(registered, str) and registered not in (class_name, "function"):
            shown = f"{shown} (registered as {registered})"
        if top in _DANGEROUS_MODULES:
            report.add(
                rules.EMBEDDED_CODE,
                f"the config references {shown!r} from module {module!r}, which runs "
                "commands or code; loading the model imports and calls it",
                layer=layer,
            )
        else:
            report.add(
                rules.CUSTOM_OBJECT,
                f"the config references {shown!r} from module {module!r}, outside Keras; "
                "loading the model imports that module",
                layer=layer,
            )
        return
    if module is None and isinstance(registered, str) and registered != "function":
        report.add(
            rules.CUSTOM_OBJECT,
            f"the config references the custom object {registered!r}, registered outside "
            "Keras; loading the model needs (and runs) its code",
            layer=layer,
        )
        return
    if isinstance(class_name, str) and ">" in class_name and "module" not in node:
        report.add(
            rules.CUSTOM_OBJECT,
            f"the config references the custom object {class_name!r}, registered outside "
            "Keras; loading the model needs (and runs) its code",
            layer=layer,
        )


def _check_legacy_lambda(node: dict[str, Any], layer: str | None, report: _Report) -> None:
    """Keras 2 (and tf.keras) Lambda layers: ``function_type`` / ``output_shape_type``."""
    if node.get("class_name") == "Lambda":
        config = node.get("config")
    elif "function_type" in node or "output_shape_type" in node:
        config = node  # a config dict met on its own (its Lambda node is checked first)
    else:
        return
    if not isinstance(config, dict) or id(config) in report.seen:
        return
    report.seen.add(id(config))
    for key, type_key in (("function", "function_type"), ("output_shape", "output_shape_type")):
        value = config.get(key)
        kind = config.get(type_key)
        code: object = None
        if kind == "lambda":
            code = value[0] if isinstance(value, list) and value else value
        elif node is not config and isinstance(value, list) and value and kind is None:
            code = value[0]  # a (code, defaults, closure) triple without its type
        else:
            continue
        if not isinstance(code, str):
            continue
        report.add(
            rules.EMBEDDED_CODE,
            f"a Lambda {key} is stored as serialized Python bytecode (Keras 2 format)"
            f"{_hint(code)}; loading the model runs it",
            layer=layer,
        )


def _hint(code: object) -> str:
    """Telling names found in base64 bytecode, as a message suffix (the code is never run)."""
    if not isinstance(code, str) or not code or len(code) > _MAX_CODE_CHARS:
        return ""
    try:
        raw = base64.b64decode(code.encode("ascii", "replace"), validate=False)
    except (binascii.Error, ValueError):
        return ""
    found = {m.group() for m in _NAME_RE.finditer(raw)}
    names = [n.decode("ascii") for n in _TELLING_NAMES if n in found]
    return f" that mentions {', '.join(names)}" if names else ""
