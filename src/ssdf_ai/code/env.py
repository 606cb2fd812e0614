"""Environment and least-privilege checks of a project folder (PO.5.1, PO.5.2, PS.1.1, PS.1.3,
PO.3.2), for ``ssdf env``.

:func:`check_environment` walks a folder once (never following symbolic links, see
:func:`ssdf_ai.code._files.iter_files`), recognises model weights by content (the scanner's
:func:`ssdf_ai.scan.detect.detect`), private keys and credentials files by content and name, and
dataset files by the project's configured dataset paths and common data formats. It then
reports:

- permissions: keys readable by every user, weights, data and keys writable by others, and
  world-writable folders holding them (``SSDF-ENV-001`` to ``004``);
- git (when the folder is the top of a work tree): keys, credentials and weights tracked by
  git (a Git LFS pointer is fine), ``.env`` files that are not ignored (``005`` to ``007``);
- placement: reward models beside other weights or inside data, weights inside data, data
  inside model folders (``008`` to ``010``);
- CI: the GitHub Actions workflows, with :mod:`ssdf_ai.code.workflows` (``011`` to ``018``).

Nothing found is executed, imported or unpickled; git runs only through
:func:`ssdf_ai.code._git.run_git`, which turns off the repository's command-running settings.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ssdf_ai.code import env_rules as rules
from ssdf_ai.code._files import FileEntry, iter_files
from ssdf_ai.code._git import is_repository, run_git, tracked_files
from ssdf_ai.code.workflows import WorkflowResult, check_workflows
from ssdf_ai.findings import Confidence, Finding, Location, Severity
from ssdf_ai.scan import detect as fmt

# Bytes read from the start of each file to recognise what it is.
HEAD_BYTES = 16 * 1024
# Git LFS pointer files are smaller than this (git-lfs spec, "The pointer").
LFS_POINTER_MAX = 1024
LFS_POINTER = re.compile(
    rb"\Aversion https://git-lfs\.github\.com/spec/v1\n"
    rb"(?:[a-z0-9.-]+ [^\n]*\n)*?oid sha256:[0-9a-f]{64}\n"
)
# Zip archives whose central directory is larger than this are not opened to be classified.
MAX_ZIP_ENTRIES = 50_000
MAX_ZIP_DIRECTORY = 16 * 1024 * 1024
ZIP_TAIL_BYTES = 22 + 0xFFFF  # the end record and the longest comment
# Paths handed to one git command.
GIT_BATCH = 200

# Formats counted as model weights. NumPy arrays are as often data as weights, so they are not.
WEIGHT_FORMATS = fmt.MODEL_FORMATS - {fmt.NPY, fmt.NPZ}
# Formats that are weights whatever folder they are in; pickles and HDF5 files also hold data,
# so they do not make a dataset folder's placement wrong on their own.
PLACEMENT_FORMATS = frozenset(
    {
        fmt.SAFETENSORS,
        fmt.TORCH_ZIP,
        fmt.TORCH_LEGACY,
        fmt.TORCHSCRIPT,
        fmt.TORCH_TAR,
        fmt.GGUF,
        fmt.ONNX,
        fmt.KERAS,
    }
)
DATA_SUFFIXES = frozenset(
    {
        ".csv",
        ".tsv",
        ".jsonl",
        ".ndjson",
        ".parquet",
        ".arrow",
        ".feather",
        ".avro",
        ".orc",
        ".tfrecord",
        ".tfrecords",
    }
)
DATA_FOLDER_NAMES = frozenset({"data", "datasets", "dataset"})
_PRIVATE_KEY = re.compile(
    rb"(?m)^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=:, -]+\r?$"
    rb"|^PuTTY-User-Key-File-\d+:"
)
_PUBLIC_ONLY = re.compile(rb"-----BEGIN (CERTIFICATE|PUBLIC KEY|[A-Z0-9 ]*CERTIFICATE REQUEST)")
_SERVICE_ACCOUNT = re.compile(rb'"private_key"\s*:\s*"')
_KEY_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
_KEY_SUFFIXES = frozenset({".key", ".pem", ".p12", ".pfx", ".jks", ".keystore"})
_CREDENTIAL_NAMES = frozenset({".netrc", "_netrc", ".git-credentials", "credentials", ".dockercfg"})
_TOKEN_CONFIGS = frozenset({".npmrc", ".pypirc"})
# A token or password in .npmrc (``//registry/:_authToken=...``) or .pypirc, not a reference
# to an environment variable (``${NPM_TOKEN}``), which is the safe way to write one.
_CONFIG_SECRET = re.compile(
    rb"(?im)^[ \t]*(?://\S*:)?(_authToken|_auth|_password|password)[ \t]*[=:][ \t]*(?!\$)\S"
)
_ENV_TEMPLATES = (".example", ".sample", ".template", ".dist", ".defaults", ".tmpl")
# A "reward" or "rm" token in a name (rm_policy, llama-rm, reward_model), not "norm" or "rms".
_REWARD_NAME = re.compile(r"reward|(?:^|[^a-z0-9])rm(?:$|[^a-z0-9])", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class EnvResult:
    """What :func:`check_environment` found.

    Attributes:
        path: The folder checked, as findings name it (relative to the project when inside).
        files_checked: Regular files visited.
        weights: Model weight files found (by content).
        keys: Private keys and credentials files found.
        data_files: Dataset files found.
        workflows: The CI workflows checked (or reported as not checkable).
        git: Whether the folder is a git work tree whose tracked files were checked.
        findings: Everything found, in check order.
        counts: Findings per check: permissions, git, placement, workflows.
    """

    path: str
    files_checked: int
    weights: tuple[str, ...]
    keys: tuple[str, ...]
    data_files: int
    workflows: tuple[WorkflowResult, ...]
    git: bool
    findings: tuple[Finding, ...]
    counts: dict[str, int]


@dataclasses.dataclass
class _File:
    entry: FileEntry
    display: str  # relative to the project root when inside it
    project_rel: str  # for matching the configured paths
    weight: str | None = None  # the detected format
    key: str | None = None  # what kind of secret
    key_confidence: Confidence = Confidence.HIGH
    data: bool = False
    in_dataset: str | None = None  # the dataset path it lies in


def _finding(
    rule_id: str,
    message: str,
    path: str,
    severity: Severity | None = None,
    confidence: Confidence = Confidence.HIGH,
) -> Finding:
    rule = rules.RULES[rule_id]
    return Finding(
        rule_id=rule_id,
        severity=severity or rule.severity,
        confidence=confidence,
        message=message,
        location=Location(path=path),
        cwe=rule.cwe,
        task_ids=rule.task_ids,
        remediation=rules.REMEDIATION[rule_id],
    )


def check_environment(
    path: Path,
    *,
    root: Path | None = None,
    models: Sequence[str] = (".",),
    datasets: Sequence[str] = (".",),
) -> EnvResult:
    """Check a project folder's permissions, git contents, model and data placement and CI.

    Args:
        path: The folder to check.
        root: The project root; findings name files relative to it, and ``models`` and
            ``datasets`` are relative to it. Defaults to ``path``.
        models: The project's model paths (``[paths] models``): files, folders or globs.
        datasets: The project's dataset paths (``[paths] datasets``). The default, the whole
            project, means folders named data, datasets or dataset.

    Returns:
        The result.

    Raises:
        InputError: ``path`` is missing or not a folder, holds too many files, or git fails.
    """
    from ssdf_ai.errors import InputError

    if not path.is_dir() or path.is_symlink():
        raise InputError(
            f"{path} is not a folder",
            where=path,
            hint="give the project folder (or a folder inside it) to check",
        )
    root = root or path
    try:
        base = path.resolve().relative_to(root.resolve()).as_posix()
        inside = True
    except ValueError:
        base, inside = path.resolve().as_posix(), False
    prefix = "" if base in ("", ".") else base.rstrip("/") + "/"
    # Outside the project, the configured paths are taken relative to the folder itself.
    project_prefix = prefix if inside else ""
    files = [
        _classify(entry, prefix + entry.rel, project_prefix + entry.rel, datasets)
        for entry in iter_files(path)
    ]
    by_rel = {f.entry.rel: f for f in files}
    permission = _permissions(path, files, prefix)
    git_findings: list[Finding] = []
    git = is_repository(path)
    tracked: set[str] | None = None
    if git:
        tracked = set(tracked_files(path))
        git_findings = _git(path, by_rel, tracked)
    git_findings += _env_not_ignored(path, files, tracked)
    placement = _placement(path, files, models, datasets)
    workflows = check_workflows(path, prefix=prefix)
    ci = [f for result in workflows for f in result.findings]
    findings = (*permission, *git_findings, *placement, *ci)
    return EnvResult(
        path=base or ".",
        files_checked=len(files),
        weights=tuple(f.display for f in files if f.weight),
        keys=tuple(f.display for f in files if f.key),
        data_files=sum(1 for f in files if f.data),
        workflows=tuple(workflows),
        git=git,
        findings=findings,
        counts={
            "permissions": len(permission),
            "git": len(git_findings),
            "placement": len(placement),
            "workflows": len(ci),
        },
    )


# Recognising files ---------------------------------------------------------------------------
def _open(path: Path) -> BinaryIO:
    """Open a file found by the walk for reading, never through a symbolic link.

    O_NOFOLLOW: a file swapped for a link since the walk is not read through it; O_NONBLOCK:
    nor does a file swapped for a FIFO hang the check.

    Raises:
        OSError: It cannot be opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    return os.fdopen(os.open(path, flags), "rb")


def _head(path: Path) -> bytes:
    try:
        with _open(path) as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""


def _weight_format(entry: FileEntry, head: bytes) -> str | None:
    found = fmt.detect(head, size=entry.size, name=entry.rel).format
    if found == fmt.ZIP:
        found = _zip_format(entry.path, entry.size)
    return found if found in WEIGHT_FORMATS else None


def _zip_format(path: Path, size: int) -> str:
    """Refine a zip by its member names, if its central directory is of a sane size."""
    import struct
    import zipfile

    try:
        with _open(path) as handle:
            handle.seek(max(0, size - ZIP_TAIL_BYTES))
            tail = handle.read(ZIP_TAIL_BYTES)
            end = tail.rfind(b"PK\x05\x06")
            if end < 0 or end + 22 > len(tail):
                return fmt.ZIP
            # The end of central directory record: total entries at +10, its size at +12.
            entries, directory = struct.unpack_from("<HI", tail, end + 10)
            if entries > MAX_ZIP_ENTRIES or directory > MAX_ZIP_DIRECTORY:
                return fmt.ZIP  # not read: a member list this long is no checkpoint's
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                return fmt.classify_zip(archive.namelist()).format
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return fmt.ZIP


def is_env_file(name: str) -> bool:
    """Whether ``name`` is a dotenv file (``.env``, ``.env.local``), not a template of one."""
    lowered = name.lower()
    return lowered == ".env" or (
        lowered.startswith(".env.") and not lowered.endswith(_ENV_TEMPLATES)
    )


def key_kind(name: str, head: bytes) -> str | None:
    """What kind of secret a file holds, from its name and first bytes; ``None`` if none.

    Args:
        name: The file's name.
        head: Its first bytes.

    Returns:
        ``private key``, ``service-account key`` or ``credentials file``, or ``None``.
    """
    found = _key(name, head)
    return None if found is None else found[0]


def _key(name: str, head: bytes) -> tuple[str, Confidence] | None:
    """The kind of secret, and how sure that is: a key file known by its name alone, whose
    content says nothing, may be something else."""
    lowered = name.lower()
    if _PRIVATE_KEY.search(head):
        return "private key", Confidence.HIGH
    suffix = PurePosixPath(lowered).suffix
    if (lowered in _KEY_NAMES or suffix in _KEY_SUFFIXES) and not _PUBLIC_ONLY.search(head):
        return "private key", Confidence.MEDIUM
    if suffix == ".json" and _SERVICE_ACCOUNT.search(head):
        return "service-account key", Confidence.HIGH
    if lowered in _TOKEN_CONFIGS:
        # .npmrc and .pypirc are often plain settings, committed on purpose.
        return ("credentials file", Confidence.HIGH) if _CONFIG_SECRET.search(head) else None
    if is_env_file(name) or lowered in _CREDENTIAL_NAMES:
        return "credentials file", Confidence.HIGH
    return None


def _within(rel: str, patterns: Iterable[str]) -> str | None:
    """The first of ``patterns`` (file, folder or glob, project-relative) holding ``rel``."""
    parents = [p.as_posix() for p in PurePosixPath(rel).parents if p.as_posix() != "."]
    for raw in patterns:
        pattern = raw.strip().strip("/")
        if pattern in ("", "."):
            continue
        if rel == pattern or rel.startswith(pattern + "/"):
            return pattern
        if any(fnmatch.fnmatchcase(p, pattern) for p in (rel, *parents)):
            return pattern
    return None


def _dataset_of(rel: str, datasets: Sequence[str]) -> str | None:
    if tuple(datasets) == (".",):
        # The default: the whole project is "data", which says nothing; use the usual names.
        parts = PurePosixPath(rel).parts[:-1]
        for index, part in enumerate(parts):
            if part.lower() in DATA_FOLDER_NAMES:
                return "/".join(parts[: index + 1])
        return None
    return _within(rel, datasets)


def _classify(entry: FileEntry, display: str, project_rel: str, datasets: Sequence[str]) -> _File:
    found = _File(entry=entry, display=display, project_rel=project_rel)
    head = _head(entry.path) if entry.size > 0 else b""
    secret = _key(entry.path.name, head)
    if secret is not None:
        found.key, found.key_confidence = secret
    if found.key is None and head:
        found.weight = _weight_format(entry, head)
    found.in_dataset = _dataset_of(project_rel, datasets)
    found.data = (
        found.key is None
        and found.weight is None
        and (found.in_dataset is not None or entry.path.suffix.lower() in DATA_SUFFIXES)
    )
    return found


# Permissions ---------------------------------------------------------------------------------
def _permissions(path: Path, files: list[_File], prefix: str) -> list[Finding]:
    if os.name != "posix":
        return []  # POSIX mode bits only; Windows ACLs are not read
    findings: list[Finding] = []
    folders: set[Path] = set()
    readable: dict[str, list[str]] = {"weight": [], "dataset": []}
    for f in files:
        mode = f.entry.mode
        if not f.key and (f.weight or f.data) and mode & stat.S_IROTH:
            readable["weight" if f.weight else "dataset"].append(f.display)
        problems: list[str] = []
        severity = Severity.MEDIUM
        confidence = Confidence.HIGH
        if f.key:
            confidence = f.key_confidence
            rule = rules.KEY_PERMISSIONS
            what = f.key
            if mode & stat.S_IROTH:
                problems.append("readable by every user")
                severity = Severity.HIGH
        elif f.weight:
            rule, what = rules.MODEL_PERMISSIONS, f"model weights ({f.weight})"
        elif f.data:
            rule, what = rules.DATA_PERMISSIONS, "dataset file"
        else:
            continue
        folders.add(f.entry.path.parent)
        if mode & stat.S_IWOTH:
            problems.append("writable by every user")
            severity = Severity.HIGH
        if mode & stat.S_IWGRP:
            problems.append("writable by its group")
        if problems:
            findings.append(
                _finding(
                    rule,
                    f"{what} is {' and '.join(problems)} (mode {stat.S_IMODE(mode):04o})",
                    f.display,
                    severity,
                    confidence,
                )
            )
    for folder in sorted(folders):
        findings.extend(_folder(path, folder, prefix))
    # Readable by every user is the usual umask, and right for open models and data; a closed
    # model's weights and sensitive data should not be (PS.1.3 R2, PS.1.1 R2): one note each.
    for kind, shown in readable.items():
        if shown:
            more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
            findings.append(
                _finding(
                    rules.READABLE_BY_ALL,
                    f"{len(shown)} {kind} file(s) readable by every user on this host "
                    f"({', '.join(shown[:3])}{more}); fine for an open model or public data, "
                    "not for closed weights or sensitive data",
                    shown[0],
                    Severity.INFO,
                )
            )
    return findings


def _folder(path: Path, folder: Path, prefix: str) -> list[Finding]:
    try:
        mode = folder.lstat().st_mode
    except OSError:
        return []
    if not mode & stat.S_IWOTH:
        return []
    rel = folder.relative_to(path).as_posix()
    display = (prefix + rel) if rel != "." else (prefix.rstrip("/") or ".")
    sticky = bool(mode & stat.S_ISVTX)
    note = " (sticky: others cannot replace files, but can add them)" if sticky else ""
    return [
        _finding(
            rules.FOLDER_PERMISSIONS,
            f"folder holding weights, data or keys is writable by every user "
            f"(mode {stat.S_IMODE(mode):04o}){note}",
            display,
            Severity.MEDIUM if sticky else Severity.HIGH,
        )
    ]


# Git -----------------------------------------------------------------------------------------
def _literal(paths: Iterable[str]) -> list[str]:
    return [f":(literal){p}" for p in paths]


def _batches(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), GIT_BATCH):
        yield items[start : start + GIT_BATCH]


def _git(path: Path, by_rel: dict[str, _File], tracked: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    weights: list[str] = []
    for rel in sorted(tracked):
        f = by_rel.get(rel)
        if f is None:
            continue  # deleted from the work tree, a symlink, or in a folder never read
        if f.key:
            findings.append(
                _finding(
                    rules.SECRET_COMMITTED,
                    f"{f.key} is tracked by git, so every clone has it",
                    f.display,
                    confidence=f.key_confidence,
                )
            )
        elif f.weight:
            weights.append(rel)
    pointers = _lfs_pointers(path, weights)
    findings += [
        _finding(
            rules.WEIGHTS_COMMITTED,
            f"model weights ({by_rel[rel].weight}) are committed to git, not to LFS or a registry",
            by_rel[rel].display,
        )
        for rel in weights
        if rel not in pointers
    ]
    return findings


def _lfs_pointers(path: Path, rels: list[str]) -> set[str]:
    """Of ``rels``, those whose staged content is a Git LFS pointer (the work tree holds the
    real file once LFS has checked it out)."""
    pointers: set[str] = set()
    for batch in _batches(rels):
        listing = run_git(path, "ls-files", "-s", "-z", "--", *_literal(batch))
        for record in listing.decode("utf-8", "surrogateescape").split("\0"):
            meta, _, rel = record.partition("\t")
            fields = meta.split()
            if len(fields) < 2 or not rel:
                continue
            blob = fields[1]
            size = int(run_git(path, "cat-file", "-s", blob).strip() or b"0")
            if size > LFS_POINTER_MAX:
                continue
            content = run_git(path, "cat-file", "blob", blob, limit=LFS_POINTER_MAX)
            if LFS_POINTER.match(content):
                pointers.add(rel)
    return pointers


def _env_not_ignored(path: Path, files: list[_File], tracked: set[str] | None) -> list[Finding]:
    """The .env files git would add: not tracked (those are committed already) and not
    ignored; without git (``tracked`` is ``None``), those no .gitignore lists."""
    envs = [f for f in files if is_env_file(f.entry.path.name)]
    if not envs:
        return []
    if tracked is not None:
        candidates = [f.entry.rel for f in envs if f.entry.rel not in tracked]
        ignored: set[str] = set()
        for batch in _batches(candidates):
            # ls-files exits 0 whether or not anything is ignored (check-ignore exits 1 when
            # nothing is), so an error here is a real one.
            out = run_git(
                path, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--",
                *_literal(batch),
            )  # fmt: skip
            ignored.update(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p)
        return [
            _finding(
                rules.ENV_NOT_IGNORED,
                ".env file is not ignored by git: `git add .` would commit it",
                f.display,
            )
            for f in envs
            if f.entry.rel in candidates and f.entry.rel not in ignored
        ]
    return [
        _finding(
            rules.ENV_NOT_IGNORED,
            ".env file is not listed in a .gitignore",
            f.display,
        )
        for f in envs
        if not _gitignored(path, f.entry.rel)
    ]


def _gitignore_patterns(folder: Path) -> list[str]:
    from ssdf_ai.code._files import read_text

    target = folder / ".gitignore"
    try:
        if not stat.S_ISREG(target.lstat().st_mode):
            return []
        text = read_text(target, limit=1024 * 1024)
    except OSError:
        return []
    return [line.strip() for line in (text or "").splitlines()]


def _gitignored(path: Path, rel: str) -> bool:
    """Whether the .gitignore files from ``path`` down to ``rel``'s folder ignore it (the
    common forms: ``.env``, ``.env*``, ``*.env``, ``/sub/.env``, ``**/.env``, negations)."""
    parts = PurePosixPath(rel).parts
    ignored = False
    for depth in range(len(parts)):
        folder = path.joinpath(*parts[:depth])
        sub = "/".join(parts[depth:])
        name = parts[-1]
        for pattern in _gitignore_patterns(folder):
            if not pattern or pattern.startswith("#"):
                continue
            negate = pattern.startswith("!")
            body = pattern[1:] if negate else pattern
            if body.endswith("/"):
                continue  # folders only
            body = body.removeprefix("**/")
            # A slash (but a trailing one) anchors the pattern to the .gitignore's folder.
            anchored = "/" in body
            body = body.lstrip("/")
            target = sub if anchored else name
            if fnmatch.fnmatchcase(target, body):
                ignored = not negate
    return ignored


# Placement -----------------------------------------------------------------------------------
def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _reward_config(folder: Path) -> bool:
    """Whether ``folder/config.json`` describes a reward model (a one-label sequence
    classifier, or a name saying reward)."""
    data = fmt.read_json(folder / "config.json", max_bytes=1024 * 1024)
    if not isinstance(data, dict):
        return False
    architectures = data.get("architectures")
    names = (
        [a for a in architectures if isinstance(a, str)] if isinstance(architectures, list) else []
    )
    names += [
        data[key]
        for key in ("_name_or_path", "model_type", "name")
        if isinstance(data.get(key), str)
    ]
    if any("reward" in n.lower() for n in names):
        return True
    labels = data.get("num_labels")
    id2label = data.get("id2label")
    one_label = labels == 1 or (isinstance(id2label, dict) and len(id2label) == 1)
    return one_label and any(n.endswith("ForSequenceClassification") for n in names)


def _placement(
    path: Path, files: list[_File], models: Sequence[str], datasets: Sequence[str]
) -> list[Finding]:
    weights = [f for f in files if f.weight]
    folders: dict[str, list[_File]] = {}
    for f in weights:
        folders.setdefault(PurePosixPath(f.entry.rel).parent.as_posix(), []).append(f)
    reward_folders = {
        folder for folder in folders if _reward_config(path / folder if folder != "." else path)
    }

    def reward(f: _File) -> Confidence | None:
        """How sure it is that ``f`` is a reward model's: sure by its config, less by name."""
        rel = PurePosixPath(f.entry.rel)
        if rel.parent.as_posix() in reward_folders:
            return Confidence.HIGH
        names = [*rel.parent.parts, rel.stem]
        return Confidence.MEDIUM if any(_REWARD_NAME.search(n) for n in names) else None

    findings: list[Finding] = []
    for _folder, members in sorted(folders.items()):
        rewards = [(f, sure) for f in members if (sure := reward(f)) is not None]
        others = [f for f in members if reward(f) is None]
        for f, sure in rewards:
            if f.in_dataset is not None:
                where = f"inside the dataset folder {f.in_dataset!r}"
            elif others:
                more = ", ..." if len(others) > 1 else ""
                where = (
                    f"in the same folder as {len(others)} other weight file(s) "
                    f"({others[0].display}{more})"
                )
            else:
                continue
            findings.append(
                _finding(
                    rules.REWARD_BESIDE,
                    f"reward model is stored {where}",
                    f.display,
                    confidence=sure,
                )
            )
        findings.extend(
            _finding(
                rules.WEIGHTS_IN_DATA,
                f"model weights ({f.weight}) are stored inside the dataset folder {f.in_dataset!r}",
                f.display,
            )
            for f in others
            if f.in_dataset is not None and f.weight in PLACEMENT_FORMATS
        )
    model_folders = {folder for folder in folders if _is_regular(path / folder / "config.json")}
    configured = [m for m in models if m.strip().strip("/") not in ("", ".")]
    for f in files:
        if not f.data or f.entry.path.suffix.lower() not in DATA_SUFFIXES:
            continue
        rel = PurePosixPath(f.entry.rel)
        holder = next(
            (
                p.as_posix()
                for p in rel.parents
                if p.as_posix() in model_folders and p.as_posix() != "."
            ),
            None,
        ) or _within(f.project_rel, configured)
        if holder is not None:
            findings.append(
                _finding(
                    rules.DATA_IN_MODELS,
                    f"data file is stored inside the model folder {holder!r}",
                    f.display,
                )
            )
    return findings
