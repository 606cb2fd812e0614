"""``ssdf keys``: create the signing keys for attestations, waivers and approvals.

Passphrases come only from an environment variable (``--passphrase-env VAR``) or a hidden
interactive prompt, never from a command-line value (which would land in shell history and
process listings). ``cryptography`` is imported inside the commands, so ``ssdf --help`` stays
fast.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import Output, command
from ssdf_ai.cli.evidence import Project, _project

if TYPE_CHECKING:
    from ssdf_ai.assess._decision_reports import KeyReport

app = typer.Typer(
    help="Create signing keys for attestations, waivers and approvals.", no_args_is_help=True
)

PassphraseEnv = Annotated[
    str | None,
    typer.Option(
        "--passphrase-env",
        metavar="VAR",
        help="Read the key's passphrase from environment variable VAR (never from an "
        "argument). Without it, you are asked when a terminal is attached.",
        show_default=False,
    ),
]

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
GITIGNORE = "# Private signing keys never go into version control.\n*.key\n"


def _env_passphrase(var: str) -> bytes:
    from ssdf_ai.errors import InputError

    value = os.environ.get(var)
    if not value:
        raise InputError(
            f"environment variable {var} is not set or empty",
            hint=f"export {var} with the key's passphrase, or leave out --passphrase-env",
        )
    return value.encode("utf-8")


def _prompt(label: str) -> str:
    import getpass

    # getpass writes the prompt to the terminal (or stderr), so stdout stays machine-readable.
    return getpass.getpass(f"{label}: ", stream=sys.stderr)


def new_passphrase(var: str | None, *, unsafe_none: bool) -> bytes | None:
    """The passphrase for a new key: from ``var``, or asked twice on a terminal.

    Args:
        var: The environment variable to read, if given.
        unsafe_none: Write the key unencrypted (only its file mode protects it).

    Returns:
        The passphrase, or ``None`` for an unencrypted key.

    Raises:
        InputError: If no passphrase can be had and ``unsafe_none`` is false, both were asked
            for, or the two typed passphrases differ.
    """
    from ssdf_ai.errors import InputError

    if unsafe_none:
        if var:
            raise InputError("give either --passphrase-env or --unsafe-no-passphrase, not both")
        return None
    if var:
        return _env_passphrase(var)
    if not sys.stdin.isatty():
        raise InputError(
            "no passphrase for the new private key",
            hint="give --passphrase-env VAR, run the command in a terminal to be asked, or "
            "pass --unsafe-no-passphrase for a key protected only by its file mode",
        )
    first = _prompt("Passphrase for the new key")
    if not first:
        raise InputError(
            "the passphrase is empty", hint="for no passphrase, use --unsafe-no-passphrase"
        )
    if _prompt("Repeat the passphrase") != first:
        raise InputError("the passphrases differ", hint="run the command again")
    return first.encode("utf-8")


def signing_passphrase(key: Path, var: str | None) -> bytes | None:
    """The passphrase to unlock a private key: from ``var``, or asked on a terminal.

    Args:
        key: The private key file.
        var: The environment variable to read, if given.

    Returns:
        The passphrase, or ``None`` when the key is not encrypted and none was given.

    Raises:
        InputError: If the key is encrypted and no passphrase can be had.
    """
    from ssdf_ai.errors import InputError
    from ssdf_ai.integrity import is_encrypted

    if var:
        return _env_passphrase(var)
    if not is_encrypted(key):
        return None
    if not sys.stdin.isatty():
        raise InputError(
            f"the private key {key} is encrypted and no passphrase was given",
            where=key,
            hint="give --passphrase-env VAR with the name of a variable holding it",
        )
    return _prompt(f"Passphrase for {key}").encode("utf-8")


def _file_stem(name: str) -> str:
    from ssdf_ai.errors import InputError

    stem = _UNSAFE_FILE_CHARS.sub("-", name.strip()).strip("-.")
    if not stem:
        raise InputError(
            f"cannot make a file name from {name!r}", hint="give a name with letters or digits"
        )
    return stem[:100]


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


@command(app, "generate")
def generate(
    name: Annotated[
        str,
        typer.Argument(
            help="The signer's name, exactly as in roles.holders (files are named after it).",
            show_default=False,
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Where to write NAME.key and NAME.pub. Default: keys/ in the project.",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    passphrase_env: PassphraseEnv = None,
    unsafe_no_passphrase: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-passphrase",
            help="Write the private key unencrypted (protected only by its 0600 file mode).",
        ),
    ] = False,
    project: Project = Path("."),
    *,
    out: Output,
) -> KeyReport | str | None:
    """Create an ECDSA P-256 key pair and print the \\[\\[signers]] entry for ssdf.toml.

    NAME.key (mode 0600) is encrypted with the passphrase; keep it secret.
    NAME.pub is what ssdf.toml names; commit it.
    Existing files are never overwritten.
    """
    from ssdf_ai.assess._decision_reports import KeyReport, signer_snippet
    from ssdf_ai.integrity import generate_keypair
    from ssdf_ai.report import OutputFormat

    root = _project(project)
    stem = _file_stem(name)
    directory = out_dir if out_dir is not None else root / "keys"
    passphrase = new_passphrase(passphrase_env, unsafe_none=unsafe_no_passphrase)
    directory.mkdir(parents=True, exist_ok=True)
    gitignore: str | None = None
    ignore_file = directory / ".gitignore"
    if _relative(directory, root) is not None and not ignore_file.exists():
        from ssdf_ai._io import atomic_write

        atomic_write(ignore_file, GITIGNORE)
        gitignore = str(ignore_file)
    generated = generate_keypair(
        directory / f"{stem}.key", directory / f"{stem}.pub", passphrase=passphrase
    )
    warnings: list[str] = []
    if passphrase is None:
        warnings.append("the private key is not encrypted: only its file mode protects it")
    config_path = _relative(generated.public_path, root)
    if config_path is None:
        config_path = str(generated.public_path)
        warnings.append(
            "the public key is outside the project: copy it into the project, since "
            "[[signers]] paths are relative to the project root"
        )
    report = KeyReport(
        name=name,
        private_key=str(generated.private_path),
        public_key=str(generated.public_path),
        public_key_config=config_path,
        key_id=generated.key_id,
        encrypted=generated.encrypted,
        snippet=signer_snippet(name, config_path),
        gitignore=gitignore,
        warnings=warnings,
    )
    if out.format is not OutputFormat.TERMINAL:
        return report
    if out.quiet and out.output is None:
        return None
    # The terminal view is plain text, so that paths and the snippet are never wrapped.
    return report.text()
