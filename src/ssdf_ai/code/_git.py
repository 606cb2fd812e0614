"""Reading a git repository without letting it run anything.

A repository's own configuration can name commands that git runs on ordinary reads: textconv
and external diff drivers, ``core.fsmonitor``, a pager, ``core.sshCommand``, hooks. A repository
under check is untrusted, so every call here goes through :func:`run_git`, which turns those off
on the command line (``-c`` wins over the repository's ``.git/config``), ignores the user's and
the system's configuration, never prompts, and bounds the output and the time.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: S404 - git is run with a fixed argument list, never a shell
from pathlib import Path

from ssdf_ai.errors import InputError

# Settings that would otherwise let the repository's configuration run commands.
_SAFE = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.pager=cat",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.sshCommand=false",
    "-c",
    "diff.external=",
    "-c",
    "protocol.allow=never",
    "-c",
    "safe.directory=*",
)
MAX_OUTPUT = 512 * 1024 * 1024
TIMEOUT_S = 600.0


def git_executable() -> str:
    """The path of ``git``.

    Raises:
        InputError: git is not installed.
    """
    found = shutil.which("git")
    if found is None:
        raise InputError(
            "git is not installed, so the repository's history cannot be read",
            hint="install git, or leave the history out of the check",
        )
    return found


def is_repository(path: Path) -> bool:
    """Whether ``path`` is a folder with a ``.git`` folder or file (the top of a work tree)."""
    return (path / ".git").exists()


def run_git(root: Path, *args: str, limit: int = MAX_OUTPUT, timeout: float = TIMEOUT_S) -> bytes:
    """Run ``git ARGS`` in ``root`` safely and return its standard output.

    Diff-producing commands must also pass ``--no-textconv --no-ext-diff``; this function adds
    the configuration overrides that apply to every command.

    Raises:
        InputError: git failed, ran past ``timeout`` seconds, or wrote more than ``limit`` bytes.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "GIT_OPTIONAL_LOCKS": "0",
        "LC_ALL": "C",
    }
    command = [git_executable(), *_SAFE, "-C", str(root), *args]
    try:
        with subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
        ) as process:
            assert process.stdout is not None  # noqa: S101 - PIPE was requested
            data = process.stdout.read(limit + 1)
            if len(data) > limit:
                process.kill()
                raise InputError(
                    f"git {args[0]} in {root} wrote more than {limit:,} bytes",
                    where=root,
                    hint="check a smaller history (--since) or the working tree alone",
                )
            try:
                _, err = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                raise InputError(
                    f"git {args[0]} in {root} ran for more than {timeout:.0f} s",
                    where=root,
                    hint="check a smaller history, or the working tree alone",
                ) from None
    except OSError as error:
        raise InputError(f"could not run git in {root}: {error}", where=root) from None
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"git {args[0]} failed in {root}: {message[-1] if message else process.returncode}",
            where=root,
            hint="check that the folder is a readable git repository",
        )
    return data


def tracked_files(root: Path) -> list[str]:
    """The paths git tracks in the work tree at ``root`` (POSIX, relative to it)."""
    out = run_git(root, "ls-files", "-z", "--cached")
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
