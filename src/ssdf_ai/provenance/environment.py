"""Capture the environment a training run ran in, without importing heavy libraries.

What :func:`capture` records (PW.6.2 C1: interpreter, compiler and CUDA versions; PW.3.2 and
PS.3.2: the code state that produced a model):

- Python: version, implementation, executable; every installed distribution (name, version,
  package URL ``pkg:pypi/<normalized-name>@<version>``). When the recorded command runs another
  Python interpreter than ssdf-ai's own, that interpreter is asked instead (it is about to run
  anyway).
- The operating system (``platform.uname``, ``/etc/os-release``), the CPU (model, count), memory.
- GPUs and their driver (``nvidia-smi`` when it is on ``PATH``), CUDA and cuDNN versions
  (``nvcc --version``, ``CUDA_VERSION``/``CUDNN_VERSION``, or ``torch`` only when it is already
  imported: torch is never imported here), compiler versions (``gcc``, ``cc``, ``clang``).
- The git state: commit, branch, remote URL with any credentials removed, whether the work tree
  is dirty and, when it is, a SHA-256 over ``git diff HEAD --binary`` and the untracked files'
  names and contents (bounded).

Every external command runs with a timeout and without a shell; whatever cannot be found out is
left out (``None`` or absent), never an exception.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "Environment",
    "GitState",
    "Package",
    "capture",
    "git_state",
    "installed_packages",
    "normalize_name",
    "purl",
    "redact_remote",
]

TOOL_TIMEOUT = 5.0
GIT_TIMEOUT = 30.0
DIFF_TIMEOUT = 120.0
INTERPRETER_TIMEOUT = 30.0
MAX_UNTRACKED_FILES = 10_000
MAX_UNTRACKED_BYTES = 256 * 1024 * 1024
_MAX_OUTPUT = 16 * 1024 * 1024
_PYTHON_NAME = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?(\.exe)?$")
_NORMALIZE = re.compile(r"[-_.]+")
_CHUNK = 1 << 20

# Run by another interpreter to describe itself: standard library only, prints one JSON line.
_DESCRIBE = """\
import importlib.metadata as m, json, platform, sys
seen = {}
for d in m.distributions():
    name = d.metadata["Name"]
    if name and name not in seen:
        seen[name] = d.version
print(json.dumps({"version": platform.python_version(),
                  "implementation": platform.python_implementation(),
                  "executable": sys.executable, "packages": sorted(seen.items())}))
"""


@dataclasses.dataclass(frozen=True)
class Package:
    """An installed Python distribution.

    Attributes:
        name: Its name as published.
        version: Its version.
        purl: Its package URL, ``pkg:pypi/<normalized-name>@<version>``.
    """

    name: str
    version: str
    purl: str


@dataclasses.dataclass(frozen=True)
class GitState:
    """The state of the git work tree a run started from.

    Attributes:
        toplevel: The work tree's root.
        commit: ``HEAD``'s commit (SHA-1 hex), or ``None`` before the first commit.
        branch: The branch checked out, or ``None`` when detached.
        remote: The ``origin`` (or first) remote's URL, credentials removed.
        dirty: Whether tracked files differ from ``HEAD`` or untracked files exist.
        uncommitted_sha256: When dirty, SHA-256 over ``git diff HEAD --binary`` followed by
            each untracked file's name, size and content (sorted by name).
        uncommitted_complete: Whether every untracked file's content went into that digest
            (false when over :data:`MAX_UNTRACKED_FILES` or :data:`MAX_UNTRACKED_BYTES`: the
            rest count by name and size only).
    """

    toplevel: str
    commit: str | None
    branch: str | None
    remote: str | None
    dirty: bool
    uncommitted_sha256: str | None = None
    uncommitted_complete: bool = True


@dataclasses.dataclass(frozen=True)
class Environment:
    """What :func:`capture` found. Fields it could not find out are ``None`` or empty.

    Attributes:
        python: ``version``, ``implementation``, ``executable`` of the interpreter.
        packages: Installed distributions, sorted by normalized name.
        os: ``system``, ``release``, ``version``, ``machine``, and ``/etc/os-release``'s
            ``name``/``id``/``versionId``.
        cpu: ``model``, ``count`` (logical CPUs), ``available`` (usable by this process).
        memory: ``totalBytes``.
        gpus: One ``{"name", "driverVersion"}`` per GPU.
        cuda: The CUDA version.
        cudnn: The cuDNN version.
        compilers: ``gcc``, ``cc``, ``clang`` -> the first line of ``--version``.
        git: The git state, or ``None`` outside a work tree (or without git).
    """

    python: dict[str, str]
    packages: tuple[Package, ...]
    os: dict[str, str]
    cpu: dict[str, Any]
    memory: dict[str, Any]
    gpus: tuple[dict[str, str], ...]
    cuda: str | None
    cudnn: str | None
    compilers: dict[str, str]
    git: GitState | None

    def versions(self) -> dict[str, str]:
        """The versions for SLSA ``builder.version``: ssdf-ai, python, os, cuda, compilers …"""
        from ssdf_ai._version import __version__

        result: dict[str, str] = {"ssdf-ai": __version__}
        if self.python.get("version"):
            result["python"] = self.python["version"]
        if self.python.get("implementation"):
            result["python-implementation"] = self.python["implementation"]
        system = " ".join(v for v in (self.os.get("system"), self.os.get("release")) if v)
        if system:
            result["os"] = system
        if self.os.get("name"):
            result["os-distribution"] = self.os["name"]
        if self.cuda:
            result["cuda"] = self.cuda
        if self.cudnn:
            result["cudnn"] = self.cudnn
        drivers = sorted({g["driverVersion"] for g in self.gpus if g.get("driverVersion")})
        if drivers:
            result["gpu-driver"] = ", ".join(drivers)
        result.update(self.compilers)
        return result

    def hardware(self) -> dict[str, Any]:
        """The annotations of the ``environment`` byproduct: cpu, memory, gpu, os, python."""
        result: dict[str, Any] = {}
        if self.cpu:
            result["cpu"] = dict(self.cpu)
        if self.memory:
            result["memory"] = dict(self.memory)
        result["gpu"] = [dict(g) for g in self.gpus]
        if self.os:
            result["os"] = dict(self.os)
        if self.python:
            result["python"] = dict(self.python)
        return result


# -- helpers ---------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"LC_ALL": "C", "LANG": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"})
    return env


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a command and everything it started (it runs in a session of its own)."""
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


def _output(
    argv: Sequence[str], *, timeout: float | None = None, cwd: Path | None = None
) -> str | None:
    """Run a command (no shell) and return its stdout, or ``None`` on any failure.

    The command runs in a new session, so that on timeout it is killed with everything it
    started (a child holding the pipe open cannot make us wait).
    """
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed argv of a known tool, never a shell
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    try:
        stdout, _ = process.communicate(timeout=TOOL_TIMEOUT if timeout is None else timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            process.communicate(timeout=5)
        return None
    if process.returncode != 0 or len(stdout) > _MAX_OUTPUT:
        return None
    return stdout.decode("utf-8", "replace")


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return None


def normalize_name(name: str) -> str:
    """A distribution name as PEP 503 normalizes it (``Scikit_Learn`` -> ``scikit-learn``)."""
    return _NORMALIZE.sub("-", name).lower()


def purl(name: str, version: str) -> str:
    """The package URL of a PyPI distribution: ``pkg:pypi/<normalized-name>@<version>``."""
    return f"pkg:pypi/{quote(normalize_name(name), safe='-')}@{quote(version, safe='.-_~!')}"


def _packages(pairs: Iterable[tuple[str, str]]) -> tuple[Package, ...]:
    seen: dict[str, Package] = {}
    for name, version in pairs:
        if not name or not isinstance(name, str) or not isinstance(version, str):
            continue
        seen.setdefault(normalize_name(name), Package(name, version, purl(name, version)))
    return tuple(seen[key] for key in sorted(seen))


def installed_packages() -> tuple[Package, ...]:
    """Every distribution installed for this interpreter (the first of duplicates wins)."""
    pairs: list[tuple[str, str]] = []
    for dist in importlib.metadata.distributions():
        try:
            name = dist.metadata["Name"]
            version = dist.version
        except (KeyError, OSError, ValueError):  # pragma: no cover - a broken dist-info
            continue
        if name:
            pairs.append((str(name), str(version)))
    return _packages(pairs)


def _own_python() -> dict[str, str]:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def _interpreter_of(argv: Sequence[str], cwd: Path) -> tuple[str | None, bool]:
    """The Python interpreter ``argv`` runs (or ``None``), and whether it is ssdf-ai's own
    (the same file, or one beside it in the same environment's ``bin``)."""
    if not argv:
        return None, False
    program = argv[0]
    if not _PYTHON_NAME.match(Path(program).name.lower()):
        return None, False
    found = (
        str((cwd / program).absolute())
        if os.sep in program or (os.altsep and os.altsep in program)
        else shutil.which(program)
    )
    if not found:
        return None, False
    own = Path(sys.executable).absolute()
    return found, Path(found).absolute() == own or Path(found).absolute().parent == own.parent


def _describe(interpreter: str) -> tuple[dict[str, str], tuple[Package, ...]] | None:
    import json

    text = _output([interpreter, "-c", _DESCRIBE], timeout=INTERPRETER_TIMEOUT)
    if not text or not text.strip():
        return None
    try:
        # The last line: a sitecustomize that prints something first does not break it.
        data = json.loads(text.strip().splitlines()[-1])
        python = {
            k: str(data[k]) for k in ("version", "implementation", "executable") if data.get(k)
        }
        packages = _packages((str(n), str(v)) for n, v in data["packages"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return python, packages


# -- the machine -----------------------------------------------------------------------------


def _read(path: str, limit: int = 1 << 20) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return None


def _os_info() -> dict[str, str]:
    uname = platform.uname()
    info = {
        "system": uname.system,
        "release": uname.release,
        "version": uname.version,
        "machine": uname.machine,
    }
    text = _read("/etc/os-release")
    if text:
        fields: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip("\"'")
        for key, name in (("PRETTY_NAME", "name"), ("ID", "id"), ("VERSION_ID", "versionId")):
            if fields.get(key):
                info[name] = fields[key][:200]
    return {k: v for k, v in info.items() if v}


def _cpu_info() -> dict[str, Any]:
    info: dict[str, Any] = {}
    text = _read("/proc/cpuinfo", 4 << 20)
    if text:
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() in ("model name", "Model", "cpu model", "Hardware"):
                info["model"] = value.strip()[:200]
                break
    if "model" not in info and platform.processor():
        info["model"] = platform.processor()[:200]
    count = os.cpu_count()
    if count:
        info["count"] = count
    if hasattr(os, "sched_getaffinity"):
        with contextlib.suppress(OSError):
            info["available"] = len(os.sched_getaffinity(0))
    return info


def _memory_info() -> dict[str, Any]:
    text = _read("/proc/meminfo")
    if text:
        match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
        if match:
            return {"totalBytes": int(match[1]) * 1024}
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return {}
    return {"totalBytes": pages * size} if pages > 0 and size > 0 else {}


def _gpus() -> tuple[dict[str, str], ...]:
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return ()
    text = _output([tool, "--query-gpu=name,driver_version", "--format=csv,noheader"])
    gpus: list[dict[str, str]] = []
    for line in (text or "").splitlines()[:64]:
        name, sep, driver = line.rpartition(",")
        if sep and name.strip():
            gpus.append({"name": name.strip()[:200], "driverVersion": driver.strip()[:64]})
    return tuple(gpus)


def _cuda() -> tuple[str | None, str | None]:
    cuda: str | None = None
    cudnn: str | None = None
    tool = shutil.which("nvcc")
    if tool is not None:
        text = _output([tool, "--version"]) or ""
        match = re.search(r"release [\d.]+, V([\d.]+)", text) or re.search(
            r"release ([\d.]+)", text
        )
        if match:
            cuda = match[1]
    cuda = cuda or os.environ.get("CUDA_VERSION") or None
    cudnn = os.environ.get("CUDNN_VERSION") or None
    torch = sys.modules.get("torch")  # only when the caller already imported it
    if torch is not None:
        try:
            cuda = cuda or (torch.version.cuda and str(torch.version.cuda)) or None
            version = torch.backends.cudnn.version()
            cudnn = cudnn or (str(version) if version else None)
        except Exception:  # noqa: BLE001, S110 - a broken torch must not stop the capture
            pass
    return cuda, cudnn


def _compilers() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in ("gcc", "cc", "clang"):
        tool = shutil.which(name)
        if tool is None:
            continue
        line = _first_line(_output([tool, "--version"]))
        if line:
            found[name] = line
    return found


# -- git -------------------------------------------------------------------------------------


def redact_remote(url: str) -> str:
    """A remote URL without credentials: ``https://user:token@host/x`` -> ``https://host/x``.

    The user of an scp-like address (``git@host:org/repo``) is no secret and stays; anything
    before ``@`` that holds a ``:`` (``user:password@``) goes, as do a URL's query and fragment.
    """
    text = url.strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
        except ValueError:
            return "<unparseable remote URL>"
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    user, sep, rest = text.partition("@")
    if sep and ":" in user:
        return rest
    return text


def _git(root: Path, *args: str, timeout: float | None = None) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    return _output(
        [git, "-C", str(root), *args], timeout=GIT_TIMEOUT if timeout is None else timeout
    )


def _hash_stream(argv: Sequence[str], digest: Any, timeout: float) -> bool:
    """Feed a command's stdout into ``digest``; ``False`` if it failed or ran out of time."""
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, never a shell
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
            start_new_session=True,
        )
    except OSError:
        return False
    timer = threading.Timer(timeout, _kill_group, (process,))
    timer.start()
    try:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        while chunk := process.stdout.read(_CHUNK):
            digest.update(chunk)
        code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:  # pragma: no cover
            _kill_group(process)
            process.wait()
    return code == 0


def _excluded(rel: str, excluded: Sequence[str]) -> bool:
    return any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in excluded)


def _status_paths(text: str) -> list[str]:
    """Paths in ``git status --porcelain -z`` output (renames count with both names)."""
    paths: list[str] = []
    tokens = text.split("\0")
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if len(token) < 4:
            continue
        paths.append(token[3:])
        if token[0] in "RC" or token[1] in "RC":
            if index < len(tokens) and tokens[index]:
                paths.append(tokens[index])
            index += 1
    return paths


def _untracked_digest(toplevel: Path, names: list[str], digest: Any) -> bool:
    """Feed untracked files (name, size, content) into ``digest``; ``False`` if bounded."""
    complete = True
    budget = MAX_UNTRACKED_BYTES
    for count, name in enumerate(sorted(names)):
        path = toplevel / name
        try:
            info = path.lstat()
        except OSError:
            continue
        size = info.st_size
        digest.update(b"untracked\0" + name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(str(size).encode("ascii") + b"\0")
        if count >= MAX_UNTRACKED_FILES or size > budget or not path.is_file():
            if path.is_file():
                complete = False
            if path.is_symlink():
                digest.update(os.readlink(path).encode("utf-8", "surrogateescape"))
            continue
        budget -= size
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except OSError:
            complete = False
    return complete


def git_state(directory: Path, *, exclude: Sequence[Path] = ()) -> GitState | None:
    """The git state of the work tree holding ``directory``, or ``None`` outside one.

    Args:
        directory: A directory inside the work tree.
        exclude: Paths whose changes do not count (ssdf-ai's own state, such as the
            ``.intoto.jsonl`` log and the ``.ssdf`` store, which every recorded run changes).

    Returns:
        The state; ``None`` when git is missing, ``directory`` is not in a work tree, or git
        fails.
    """
    top = _first_line(_git(directory, "rev-parse", "--show-toplevel"))
    if not top:
        return None
    toplevel = Path(top)
    excluded: list[str] = []
    for path in exclude:
        try:
            excluded.append(Path(path).resolve().relative_to(toplevel.resolve()).as_posix())
        except ValueError:
            continue
    commit = _first_line(_git(toplevel, "rev-parse", "--verify", "-q", "HEAD"))
    branch = _first_line(_git(toplevel, "symbolic-ref", "-q", "--short", "HEAD"))
    remotes = (_git(toplevel, "remote") or "").split()
    remote_name = "origin" if "origin" in remotes else (remotes[0] if remotes else None)
    remote = None
    if remote_name:
        url = _first_line(_git(toplevel, "remote", "get-url", remote_name))
        remote = redact_remote(url) if url else None
    status = _git(toplevel, "status", "--porcelain", "-z", "--untracked-files=all")
    if status is None:
        return GitState(str(toplevel), commit, branch, remote, dirty=True)
    changed = [p for p in _status_paths(status) if not _excluded(p, excluded)]
    if not changed:
        return GitState(str(toplevel), commit, branch, remote, dirty=False)
    digest = hashlib.sha256()
    digest.update(b"ssdf-ai uncommitted v1\0")
    git = shutil.which("git") or "git"
    diff_args = [git, "-C", str(toplevel), "diff", "--binary", "--no-color", "--no-ext-diff"]
    ok = _hash_stream([*diff_args, "HEAD" if commit else "--cached"], digest, DIFF_TIMEOUT)
    listed = _git(toplevel, "ls-files", "--others", "--exclude-standard", "-z")
    if not ok or listed is None:
        return GitState(str(toplevel), commit, branch, remote, dirty=True)
    untracked = [n for n in listed.split("\0") if n and not _excluded(n, excluded)]
    complete = _untracked_digest(toplevel, untracked, digest)
    return GitState(
        str(toplevel),
        commit,
        branch,
        remote,
        dirty=True,
        uncommitted_sha256=digest.hexdigest(),
        uncommitted_complete=complete,
    )


# -- all of it -------------------------------------------------------------------------------


def capture(
    directory: Path,
    *,
    argv: Sequence[str] = (),
    exclude: Sequence[Path] = (),
) -> Environment:
    """Capture the environment a command is about to run in.

    Args:
        directory: The working directory (for the git state and to resolve ``argv[0]``).
        argv: The command, so that a Python interpreter other than ssdf-ai's own is described
            instead of this one.
        exclude: Paths left out of the git state's dirty check (see :func:`git_state`).

    Returns:
        What could be found out; nothing here raises.
    """
    interpreter, own = _interpreter_of(argv, directory)
    described = _describe(interpreter) if interpreter and not own else None
    python, packages = described or (_own_python(), installed_packages())
    if interpreter and own:
        python = {**python, "executable": interpreter}
    cuda, cudnn = _cuda()
    return Environment(
        python=python,
        packages=packages,
        os=_os_info(),
        cpu=_cpu_info(),
        memory=_memory_info(),
        gpus=_gpus(),
        cuda=cuda,
        cudnn=cudnn,
        compilers=_compilers(),
        git=git_state(directory, exclude=exclude),
    )
