"""The ``ssdf`` command line.

One module per command group; each parses its arguments, calls the library, renders the report
and exits. Heavy imports happen inside the commands so that start-up stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ssdf_ai._version import __version__
from ssdf_ai.cli import assess as _assess
from ssdf_ai.cli import bom as _bom
from ssdf_ai.cli import code as _code
from ssdf_ai.cli import config as _config
from ssdf_ai.cli import convert as _convert
from ssdf_ai.cli import data as _data
from ssdf_ai.cli import decide as _decide
from ssdf_ai.cli import deps as _deps
from ssdf_ai.cli import env as _env
from ssdf_ai.cli import evidence as _evidence
from ssdf_ai.cli import integrity as _integrity
from ssdf_ai.cli import keys as _keys
from ssdf_ai.cli import profile as _profile
from ssdf_ai.cli import record as _record
from ssdf_ai.cli import release as _release
from ssdf_ai.cli import scan as _scan
from ssdf_ai.cli import secrets as _secrets
from ssdf_ai.cli import watch as _watch

app = typer.Typer(
    name="ssdf",
    help="ssdf-ai: the automated toolchain for NIST SP 800-218A, secure AI model development.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ssdf-ai {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """ssdf-ai: the automated toolchain for NIST SP 800-218A, secure AI model development.

    Exit codes: 0 clean, 1 findings at or above the threshold, 2 usage or runtime error.
    """


_config.register(app)
_assess.register(app)
_decide.register(app)
_scan.register(app)
_convert.register(app)
_watch.register(app)
_integrity.register(app)
_bom.register(app)
_release.register(app)
_record.register(app)
_code.register(app)
_secrets.register(app)
_deps.register(app)
_env.register(app)
app.add_typer(_profile.app, name="profile")
app.add_typer(_evidence.app, name="evidence")
app.add_typer(_keys.app, name="keys")
app.add_typer(_data.app, name="data")


def main() -> None:
    """Entry point of the ``ssdf`` console script."""
    app()
