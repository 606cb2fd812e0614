"""Reading dependency declarations and installed environments (PW.4.1, PW.4.4).

:func:`collect` walks a folder (symbolic links never followed) and reads, without executing or
importing anything:

- requirement files (``requirements*.txt``, ``*.in``): ``-r`` / ``-c`` includes relative to the
  including file (bounded depth, inside the project only), ``--hash`` options, environment
  markers; URLs, paths and editable lines are kept as not verifiable;
- ``pyproject.toml``: ``[project]`` dependencies and optional dependencies, PEP 735
  ``[dependency-groups]``, ``[tool.poetry.dependencies]`` and its groups;
- lock files: ``poetry.lock``, ``uv.lock``, ``Pipfile.lock``, ``pylock.toml``;
- optionally an installed environment: ``*.dist-info/METADATA`` ``Name`` and ``Version``.

Requirements are parsed with :class:`packaging.requirements.Requirement`; names are PEP 503
normalised. Lines that cannot be parsed become :class:`Problem` entries (what and where).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ssdf_ai.code.advisories import normalise_name
from ssdf_ai.errors import InputError

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_LOCK_BYTES = 64 * 1024 * 1024
MAX_LINE = 10_000
MAX_INCLUDE_DEPTH = 8
MAX_PACKAGES = 100_000
MAX_DIST_INFO = 50_000
MAX_METADATA_BYTES = 1024 * 1024

# ML frameworks and the libraries around them whose advisories RV.1.1 R3 asks to monitor.
ML_FRAMEWORKS = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "tensorflow",
        "tensorflow-cpu",
        "tensorflow-gpu",
        "keras",
        "tf-keras",
        "transformers",
        "onnx",
        "onnxruntime",
        "onnxruntime-gpu",
        "safetensors",
        "tokenizers",
        "accelerate",
        "diffusers",
        "huggingface-hub",
        "datasets",
        "jax",
        "jaxlib",
        "scikit-learn",
        "mlflow",
        "ray",
        "gradio",
        "vllm",
        "bentoml",
        "numpy",
        "pillow",
        "pandas",
        "scipy",
        "xgboost",
        "lightgbm",
        "joblib",
        "peft",
        "sentence-transformers",
        "triton",
        "deepspeed",
        "optimum",
        "openai",
        "llama-cpp-python",
        "torchserve",
        "tensorflow-serving-api",
        "streamlit",
        "wandb",
        "kserve",
        "paddlepaddle",
        "mxnet",
    }
)
ML_PREFIXES = ("langchain", "llama-index", "llama_index")
_REQ_FILE = re.compile(r"^requirements.*\.txt$", re.IGNORECASE)
_PYLOCK = re.compile(r"^pylock(\.[^.]+)?\.toml$", re.IGNORECASE)
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)$")
_EDITABLE = re.compile(r"^(-e|--editable)(?:\s*=\s*|\s+)(\S+)")
_HASH = re.compile(r"\s--hash[=\s]+(\S+)")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_ml_framework(name: str) -> bool:
    """Whether the (normalised) package is an ML framework or one of its close libraries."""
    key = normalise_name(name)
    return key in ML_FRAMEWORKS or key.startswith(tuple(normalise_name(p) for p in ML_PREFIXES))


@dataclasses.dataclass(frozen=True, slots=True)
class Package:
    """One declared, locked or installed package.

    Attributes:
        name: PEP 503 normalised.
        source: The file it was read from (relative to the project), or ``installed``.
        kind: ``requirement``, ``pyproject``, ``lock`` or ``installed``.
        version: The exact version (pinned with ``==``, locked or installed), else ``None``.
        specifier: The version specifier as written (``>=1.2,<2``), empty for none.
        line: Its line in a requirement file.
        hashed: Whether a hash pins its artifact.
        marker: Its environment marker, as written.
        unverifiable: Why it cannot be checked (a URL, a path, an editable install), if so.
    """

    name: str
    source: str
    kind: str
    version: str | None = None
    specifier: str = ""
    line: int | None = None
    hashed: bool = False
    marker: str | None = None
    unverifiable: str | None = None

    @property
    def pinned(self) -> bool:
        """Whether it names one exact version."""
        return self.version is not None

    @property
    def ml_framework(self) -> bool:
        """Whether it is an ML framework (see :data:`ML_FRAMEWORKS`)."""
        return is_ml_framework(self.name)


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """A declaration that could not be read: what and where."""

    path: str
    line: int | None
    message: str


@dataclasses.dataclass(slots=True)
class Declarations:
    """Everything :func:`collect` read.

    Attributes:
        files: Each file read, relative to the project, with its kind.
        packages: The packages, in the order read.
        problems: Lines and files that could not be read.
        unhashed: Requirement files without any ``--hash``.
    """

    files: dict[str, str] = dataclasses.field(default_factory=dict)
    packages: list[Package] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    unhashed: list[str] = dataclasses.field(default_factory=list)

    def add(self, package: Package) -> None:
        if len(self.packages) >= MAX_PACKAGES:
            raise InputError(
                f"more than {MAX_PACKAGES:,} packages declared",
                hint="point `ssdf deps` at the project's own folders",
            )
        self.packages.append(package)


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _read(path: Path, limit: int) -> str | None:
    from ssdf_ai.code._files import read_text

    return read_text(path, limit=limit)


def requirement_package(
    text: str, *, source: str, kind: str, line: int | None = None, hashed: bool = False
) -> Package:
    """Parse one PEP 508 requirement into a :class:`Package`.

    Raises:
        InvalidRequirement: It is not a valid requirement.
    """
    req = Requirement(text)
    name = normalise_name(req.name)
    marker = str(req.marker) if req.marker else None
    if req.url:
        return Package(
            name=name,
            source=source,
            kind=kind,
            line=line,
            hashed=hashed,
            marker=marker,
            unverifiable=f"installed from a URL ({req.url[:200]})",
        )
    specs = list(req.specifier)
    version = None
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        version = specs[0].version
    return Package(
        name=name,
        source=source,
        kind=kind,
        version=version,
        specifier=str(req.specifier),
        line=line,
        hashed=hashed,
        marker=marker,
    )


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with ``\\`` continuations joined and comments removed, with their first line."""
    found: list[tuple[int, str]] = []
    buffer = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        if raw.endswith("\\"):
            buffer += raw[:-1] + " "
            continue
        buffer += raw
        # pip strips a comment only after whitespace (a URL fragment keeps its '#').
        line = re.sub(r"(^|\s)#.*$", "", buffer).strip()
        buffer = ""
        if line:
            found.append((start, line))
    if buffer.strip():
        found.append((start, buffer.strip()))
    return found


class _Reader:
    def __init__(self, root: Path, out: Declarations) -> None:
        self.root = root.resolve()
        self.out = out
        self.seen: set[Path] = set()

    def requirements(self, path: Path, depth: int = 0) -> None:
        real = path.resolve()
        if real in self.seen:
            return
        self.seen.add(real)
        rel = _rel(self.root, path)
        text = _read(path, MAX_FILE_BYTES)
        if text is None:
            self.out.problems.append(
                Problem(rel, None, f"not read: larger than {MAX_FILE_BYTES:,} bytes or binary")
            )
            return
        self.out.files[rel] = "requirements"
        any_hash = False
        declared = 0
        for number, line in _logical_lines(text):
            if len(line) > MAX_LINE:
                self.out.problems.append(Problem(rel, number, "line longer than 10,000 chars"))
                continue
            include = _INCLUDE.match(line)
            if include:
                self._include(path, rel, number, include.group(2), depth)
                continue
            editable = _EDITABLE.match(line)
            if editable:
                target = editable.group(2)
                name = re.search(r"#egg=([A-Za-z0-9._-]+)", target)
                self.out.add(
                    Package(
                        name=normalise_name(name.group(1) if name else target.split("/")[-1]),
                        source=rel,
                        kind="requirement",
                        line=number,
                        unverifiable=f"editable install ({target[:200]})",
                    )
                )
                declared += 1
                continue
            if line.startswith("-"):
                continue  # pip options (--index-url, --pre, ...) declare no package
            hashes = _HASH.findall(" " + line)
            body = _HASH.sub("", " " + line).strip()
            body = re.sub(r"\s--?[a-z][a-z-]*(=\S+)?", "", " " + body).strip()
            any_hash = any_hash or bool(hashes)
            declared += 1
            if _URL.match(body) or body.startswith((".", "/")) or ("@" not in body and "/" in body):
                self.out.add(
                    Package(
                        # No name to normalise: the file or URL's last part names it.
                        name=Path(body.split("#")[0]).name or body[:50],
                        source=rel,
                        kind="requirement",
                        line=number,
                        unverifiable=f"a URL or path, not a versioned package ({body[:200]})",
                    )
                )
                continue
            try:
                package = requirement_package(
                    body, source=rel, kind="requirement", line=number, hashed=bool(hashes)
                )
            except InvalidRequirement as exc:
                message = str(exc).splitlines()[0][:200]
                self.out.problems.append(Problem(rel, number, f"not a requirement: {message}"))
                continue
            self.out.add(package)
        if declared and not any_hash:
            self.out.unhashed.append(rel)

    def _include(self, path: Path, rel: str, number: int, target: str, depth: int) -> None:
        if _URL.match(target):
            self.out.problems.append(Problem(rel, number, f"remote include {target} not read"))
            return
        if depth >= MAX_INCLUDE_DEPTH:
            self.out.problems.append(
                Problem(rel, number, f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
            )
            return
        child = path.parent / target
        try:
            resolved = child.resolve()
            resolved.relative_to(self.root)
        except (ValueError, OSError):
            self.out.problems.append(
                Problem(rel, number, f"include {target} is outside the project; not read")
            )
            return
        if child.is_symlink() or not child.is_file():
            why = "a symbolic link" if child.is_symlink() else "missing"
            self.out.problems.append(Problem(rel, number, f"include {target} is {why}"))
            return
        self.requirements(child, depth + 1)

    def pyproject(self, path: Path) -> None:
        rel = _rel(self.root, path)
        data = self._toml(path, rel, MAX_FILE_BYTES)
        if data is None:
            return
        self.out.files[rel] = "pyproject"
        project = _table(data, "project")
        groups: list[tuple[str, object]] = [("dependencies", project.get("dependencies"))]
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            groups += [(f"optional-dependencies.{k}", v) for k, v in optional.items()]
        dep_groups = data.get("dependency-groups")
        if isinstance(dep_groups, dict):
            groups += [(f"dependency-groups.{k}", v) for k, v in dep_groups.items()]
        for where, items in groups:
            if items is None:
                continue
            if not isinstance(items, list):
                self.out.problems.append(Problem(rel, None, f"{where} is not a list"))
                continue
            for item in items:
                if not isinstance(item, str):
                    continue  # PEP 735 {include-group = ...} tables name no package
                self._pep508(item, rel, where)
        poetry = _table(_table(data, "tool"), "poetry")
        tables = [("tool.poetry.dependencies", poetry.get("dependencies"))]
        tables += [("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"))]
        poetry_groups = poetry.get("group")
        if isinstance(poetry_groups, dict):
            for name, group in poetry_groups.items():
                if isinstance(group, dict):
                    tables.append((f"tool.poetry.group.{name}", group.get("dependencies")))
        for where, table in tables:
            if isinstance(table, dict):
                for name, spec in table.items():
                    if normalise_name(name) != "python":
                        self._poetry(name, spec, rel, where)

    def _pep508(self, text: str, rel: str, where: str) -> None:
        try:
            self.out.add(requirement_package(text, source=rel, kind="pyproject"))
        except InvalidRequirement as exc:
            message = str(exc).splitlines()[0][:200]
            self.out.problems.append(Problem(rel, None, f"{where}: {text[:100]!r}: {message}"))

    def _poetry(self, name: str, spec: object, rel: str, where: str) -> None:
        key = normalise_name(name)
        if isinstance(spec, dict):
            if any(k in spec for k in ("git", "path", "url")):
                self.out.add(
                    Package(
                        name=key,
                        source=rel,
                        kind="pyproject",
                        unverifiable="a git, path or URL dependency",
                    )
                )
                return
            spec = spec.get("version", "*")
        if not isinstance(spec, str):
            return
        try:
            specifier = poetry_specifier(spec)
        except InvalidSpecifier:
            self.out.problems.append(
                Problem(rel, None, f"{where}.{name}: {spec[:100]!r} is not a version constraint")
            )
            return
        specs = list(specifier)
        version = None
        if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
            version = specs[0].version
        self.out.add(
            Package(
                name=key, source=rel, kind="pyproject", version=version, specifier=str(specifier)
            )
        )

    def _toml(self, path: Path, rel: str, limit: int) -> dict[str, Any] | None:
        text = _read(path, limit)
        if text is None:
            self.out.problems.append(
                Problem(rel, None, f"not read: larger than {limit:,} bytes or binary")
            )
            return None
        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            self.out.problems.append(Problem(rel, None, f"not valid TOML: {exc}"))
            return None

    def lock(self, path: Path) -> None:
        rel = _rel(self.root, path)
        name = path.name.lower()
        if name == "pipfile.lock":
            self._pipfile_lock(path, rel)
            return
        data = self._toml(path, rel, MAX_LOCK_BYTES)
        if data is None:
            return
        self.out.files[rel] = "lock"
        entries = data.get("packages" if _PYLOCK.match(name) else "package")
        if not isinstance(entries, list):
            self.out.problems.append(Problem(rel, None, "no package list"))
            return
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            source = entry.get("source")
            if isinstance(source, dict) and {"editable", "virtual", "directory", "path"} & set(
                source
            ):
                continue  # the project itself or a local folder, not a published package
            version = entry.get("version")
            if not isinstance(version, str):
                self.out.add(
                    Package(
                        name=normalise_name(entry["name"]),
                        source=rel,
                        kind="lock",
                        unverifiable="locked without a version",
                    )
                )
                continue
            self.out.add(
                Package(
                    name=normalise_name(entry["name"]),
                    source=rel,
                    kind="lock",
                    version=version,
                    specifier=f"=={version}",
                    hashed="hash" in json.dumps(entry, default=str),
                )
            )

    def _pipfile_lock(self, path: Path, rel: str) -> None:
        text = _read(path, MAX_LOCK_BYTES)
        try:
            data = json.loads(text) if text is not None else None
        except (ValueError, RecursionError) as exc:
            self.out.problems.append(Problem(rel, None, f"not valid JSON: {exc}"))
            return
        if not isinstance(data, dict):
            self.out.problems.append(Problem(rel, None, "not a Pipfile.lock"))
            return
        self.out.files[rel] = "lock"
        for section in ("default", "develop"):
            entries = data.get(section)
            if not isinstance(entries, dict):
                continue
            for name, entry in entries.items():
                if not isinstance(entry, dict):
                    continue
                spec = entry.get("version")
                version = spec[2:] if isinstance(spec, str) and spec.startswith("==") else None
                self.out.add(
                    Package(
                        name=normalise_name(name),
                        source=rel,
                        kind="lock",
                        version=version,
                        specifier=spec if isinstance(spec, str) else "",
                        hashed=bool(entry.get("hashes")),
                        unverifiable=None if version else "locked without a version",
                    )
                )


def poetry_specifier(spec: str) -> SpecifierSet:
    """A Poetry constraint (``^1.2``, ``~1.2``, ``1.2.*``, ``>=1,<2``, ``*``) as PEP 440.

    Raises:
        InvalidSpecifier: It is neither Poetry's nor PEP 440's syntax.
    """
    parts: list[str] = []
    for raw in spec.replace(" ", "").split(","):
        if raw in ("", "*"):
            continue
        if raw[0] in "^~" and not raw.startswith("~="):
            try:
                base = Version(raw[1:])
            except InvalidVersion:
                raise InvalidSpecifier(raw) from None
            release = list(base.release) + [0] * (3 - len(base.release))
            if raw[0] == "^":
                # Caret: the leftmost non-zero component may not change.
                index = next((i for i, v in enumerate(release) if v), len(release) - 1)
                given = len(base.release)
                index = min(index, given - 1)
            else:
                index = 1 if len(base.release) >= 2 else 0
            upper = release[: index + 1]
            upper[-1] += 1
            parts += [f">={raw[1:]}", f"<{'.'.join(map(str, upper))}"]
        elif raw[0].isdigit():
            parts.append(f"=={raw}")
        else:
            parts.append(raw)
    return SpecifierSet(",".join(parts))


def _site_packages(env: Path) -> list[Path]:
    """The folders of an environment that hold ``*.dist-info``: ``env`` itself, or its
    ``lib/python*/site-packages`` (POSIX) or ``Lib/site-packages`` (Windows)."""
    if any(env.glob("*.dist-info")):
        return [env]
    found = sorted(env.glob("lib/python*/site-packages")) + sorted(
        env.glob("lib64/python*/site-packages")
    )
    found += [p for p in (env / "Lib" / "site-packages",) if p.is_dir()]
    unique: list[Path] = []
    for folder in found:
        if folder.is_dir() and not folder.is_symlink() and folder.resolve() not in unique:
            unique.append(folder.resolve())
    return unique


def _metadata(path: Path) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` from a METADATA file's headers (never imports anything)."""
    name = version = None
    text = _read(path, MAX_METADATA_BYTES)
    if text is None:
        return None, None
    for line in text.splitlines():
        if not line.strip():
            break  # the headers end at the first empty line; the description follows
        key, sep, value = line.partition(":")
        if not sep:
            continue
        if key.lower() == "name" and name is None:
            name = value.strip()
        elif key.lower() == "version" and version is None:
            version = value.strip()
    return name, version


def read_installed(env: Path, out: Declarations, *, label: str = "installed") -> None:
    """Add the packages installed in ``env`` (a virtualenv or a site-packages folder).

    Raises:
        InputError: ``env`` is not a folder or holds no ``*.dist-info``.
    """
    if not env.is_dir():
        raise InputError(
            f"{env} is not a folder",
            where=env,
            hint="give a virtual environment or a site-packages folder with --python-env",
        )
    folders = _site_packages(env)
    count = 0
    for folder in folders:
        for info in sorted(folder.glob("*.dist-info")):
            count += 1
            if count > MAX_DIST_INFO:
                raise InputError(f"{env} holds more than {MAX_DIST_INFO:,} packages", where=env)
            metadata = info / "METADATA"
            if info.is_symlink() or metadata.is_symlink() or not metadata.is_file():
                out.problems.append(Problem(label, None, f"{info.name}: no METADATA"))
                continue
            name, version = _metadata(metadata)
            if not name or not version:
                out.problems.append(Problem(label, None, f"{info.name}: no Name or Version"))
                continue
            out.add(
                Package(
                    name=normalise_name(name),
                    source=label,
                    kind="installed",
                    version=version,
                    specifier=f"=={version}",
                )
            )
    if count == 0:
        raise InputError(
            f"no installed packages (*.dist-info) found in {env}",
            where=env,
            hint="give a virtual environment (its folder) or its site-packages folder",
        )
    out.files[label] = "installed"


def current_environment() -> Path:
    """The site-packages folder of the running interpreter."""
    import sysconfig

    return Path(sysconfig.get_paths()["purelib"] or sys.prefix)


def collect(path: Path, root: Path) -> Declarations:
    """Read every dependency declaration and lock file under ``path``.

    Args:
        path: A folder (walked without following symbolic links) or one file.
        root: The project root; files are named relative to it and includes may not leave it.

    Returns:
        The files read, the packages and the problems.

    Raises:
        InputError: ``path`` does not exist.
    """
    from ssdf_ai.code._files import iter_files

    out = Declarations()
    reader = _Reader(root, out)
    # A file named on the command line is read whatever its name; a folder's by name.
    single = path.is_file() and not path.is_symlink()
    for entry in iter_files(path):
        name = entry.path.name
        lower = name.lower()
        in_folder = PurePosixPath(entry.rel).parent.name.lower() == "requirements"
        if lower == "pyproject.toml":
            reader.pyproject(entry.path)
        elif lower in ("poetry.lock", "uv.lock", "pipfile.lock") or _PYLOCK.match(lower):
            reader.lock(entry.path)
        elif (
            single
            or _REQ_FILE.match(name)
            or (lower.endswith(".in") and lower != "manifest.in")
            or (in_folder and lower.endswith(".txt"))
        ):
            reader.requirements(entry.path)
    return out
