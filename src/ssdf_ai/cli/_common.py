"""What every command shares: the global options, rendering, and the single error handler.

Commands are registered with :func:`command`, which adds ``--format``, ``--output``,
``--quiet`` and ``--verbose`` to the command's own options. The command function receives
an :class:`Output` as its ``out`` argument and returns a report (or ``None``); the wrapper
renders the report, writes it atomically where ``--output`` says, and exits with the code the
report calls for. Nothing heavy is imported here, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ssdf_ai.report import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from ssdf_ai.errors import Error
    from ssdf_ai.findings import Severity
    from ssdf_ai.report.base import Report

FORMATS_ALL = (OutputFormat.TERMINAL, OutputFormat.JSON, OutputFormat.SARIF)
FORMATS_NO_SARIF = (OutputFormat.TERMINAL, OutputFormat.JSON)

# The options every check takes: the failure threshold (resolved by :func:`fail_threshold`)
# and whether the run is recorded as evidence.
FailOn = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Exit 1 on findings at or above this severity (info, low, medium, high, critical); "
        "default checks.fail_on in ssdf.toml, else low.",
        show_default=False,
    ),
]
RecordRun = Annotated[
    bool, typer.Option("--record/--no-record", help="Record the run in the evidence store.")
]


@dataclasses.dataclass(frozen=True)
class Output:
    """The global output options of one command invocation."""

    format: OutputFormat = OutputFormat.TERMINAL
    output: Path | None = None
    quiet: bool = False
    verbose: bool = False

    def stderr(self) -> Console:
        """A console on stderr for progress and status messages."""
        from rich.console import Console

        return Console(stderr=True, quiet=self.quiet, highlight=False)

    def status(self, message: str) -> None:
        """Print a status line on stderr unless ``--quiet``."""
        self.stderr().print(message, soft_wrap=True)

    def progress_enabled(self) -> bool:
        """Whether progress bars should be shown (not when quiet)."""
        return not self.quiet


def fail_threshold(fail_on: str | None, default: Severity) -> Severity:
    """The severity ``--fail-on`` names (any case), else ``default`` (``checks.fail_on``).

    Raises:
        InputError: The name is not a severity.
    """
    from ssdf_ai.errors import InputError
    from ssdf_ai.findings import Severity

    if fail_on is None:
        return default
    try:
        return Severity(fail_on.lower())
    except ValueError:
        raise InputError(
            f"unknown severity {fail_on!r}",
            hint="use --fail-on info, low, medium, high or critical",
        ) from None


def fail(error: Error, verbose: bool) -> NoReturn:
    """Print an error's diagnostics to stderr and exit 2 (or re-raise under ``--verbose``)."""
    if verbose:
        raise error
    sys.stderr.write(error.diagnostics() + "\n")
    raise typer.Exit(2)


def emit(report: Report, out: Output) -> int:
    """Render a report to stdout or ``--output`` and return the exit code it calls for.

    Args:
        report: The report to render.
        out: The global output options.

    Returns:
        The report's exit code.
    """
    from ssdf_ai._io import atomic_write
    from ssdf_ai.report import render

    if out.output is not None:
        text = render(report, out.format, color=False)
        atomic_write(out.output, text)
        if out.format is not OutputFormat.TERMINAL and not out.quiet:
            out.status(f"wrote {out.format.value} report to {out.output}")
        elif not out.quiet:
            sys.stdout.write(text)
    elif not (out.quiet and out.format is OutputFormat.TERMINAL):
        color = out.format is OutputFormat.TERMINAL and sys.stdout.isatty()
        sys.stdout.write(render(report, out.format, color=color))
    return report.exit_code()


def emit_text(text: str, out: Output) -> int:
    """Write a finished document to stdout or ``--output``; return 0."""
    from ssdf_ai._io import atomic_write

    if out.output is not None:
        atomic_write(out.output, text)
        if not out.quiet:
            out.status(f"wrote {out.output}")
    else:
        sys.stdout.write(text)
    return 0


def _option(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _global_parameters(formats: Sequence[OutputFormat] | None) -> list[inspect.Parameter]:
    panel = "Output"
    params: list[inspect.Parameter] = []
    if formats is not None:
        names = ", ".join(f.value for f in formats)
        help_text = f"Output format: {names}."
        # A choice type of just the formats this command supports, so --help lists only those.
        choices = enum.StrEnum(  # type: ignore[misc]
            "FormatChoice", {f.name: f.value for f in formats}
        )
        params.append(
            _option(
                "format_",
                choices(OutputFormat.TERMINAL.value),
                Annotated[
                    choices,
                    typer.Option(
                        "--format",
                        "-f",
                        help=help_text,
                        case_sensitive=False,
                        rich_help_panel=panel,
                    ),
                ],
            )
        )
    output_help = "Write the report to FILE (atomically) instead of stdout."
    params += [
        _option(
            "output_",
            None,
            Annotated[
                Path | None,
                typer.Option(
                    "--output", "-o", help=output_help, dir_okay=False, rich_help_panel=panel
                ),
            ],
        ),
        _option(
            "quiet_",
            False,
            Annotated[
                bool,
                typer.Option(
                    "--quiet", "-q", help="Print nothing but errors.", rich_help_panel=panel
                ),
            ],
        ),
        _option(
            "verbose_",
            False,
            Annotated[
                bool,
                typer.Option(
                    "--verbose", "-v", help="Show tracebacks on errors.", rich_help_panel=panel
                ),
            ],
        ),
    ]
    return params


def reflow(doc: str | None) -> str | None:
    """A docstring as help text: the lines of each paragraph joined, so that the terminal wraps
    them at its own width (typer keeps a docstring's line breaks, which at 80 columns breaks a
    100-column line in two). Lists and indented blocks keep their lines."""
    if not doc:
        return doc
    paragraphs = []
    for paragraph in doc.split("\n\n"):
        lines = paragraph.splitlines()
        keep = any(line.startswith((" ", "- ", "* ", "|")) for line in lines)
        paragraphs.append(paragraph if keep else " ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def command(
    app: typer.Typer,
    name: str | None = None,
    *,
    formats: Sequence[OutputFormat] | None = FORMATS_NO_SARIF,
    **kwargs: Any,
) -> Callable[[Callable[..., Report | str | None]], Callable[..., None]]:
    """Register a command that takes the global output options.

    The decorated function must accept ``out: Output`` and return a report, a finished
    document as text (written as it is), or ``None``.

    Args:
        app: The typer app (or command group) to add the command to.
        name: The command name; defaults to the function name.
        formats: The output formats this command supports; ``None`` when the command
            declares its own ``--format`` (e.g. ``profile export``) and returns text.
        **kwargs: Passed to ``typer.Typer.command``.

    Returns:
        The decorator.
    """

    def decorate(fn: Callable[..., Report | str | None]) -> Callable[..., None]:
        # Resolve string annotations (``from __future__ import annotations``) so typer sees
        # the typer.Option inside Annotated. The return annotation is left out: it names a
        # report class that the command imports lazily, and typer does not need it.
        fn.__annotations__.pop("return", None)
        hints = typing.get_type_hints(fn, include_extras=True)
        signature = inspect.signature(fn)
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
            if p.name != "out"
        ]
        reserved = {"format_", "output_", "quiet_", "verbose_"} & set(signature.parameters)
        if reserved:
            raise TypeError(f"{fn.__name__}: parameter names {sorted(reserved)} are reserved")

        @functools.wraps(fn)
        def wrapper(*args: Any, **params: Any) -> None:
            from ssdf_ai.errors import Error, InputError

            out = Output(
                format=OutputFormat(params.pop("format_", OutputFormat.TERMINAL)),
                output=params.pop("output_"),
                quiet=params.pop("quiet_"),
                verbose=params.pop("verbose_"),
            )
            try:
                result = fn(*args, out=out, **params)
                if result is None:
                    code = 0
                elif isinstance(result, str):
                    code = emit_text(result, out)
                else:
                    code = emit(result, out)
            except Error as error:
                fail(error, out.verbose)
            except OSError as error:
                if out.verbose:
                    raise
                fail(InputError(error.strerror or str(error), where=error.filename), False)
            raise typer.Exit(code)

        wrapper.__doc__ = reflow(inspect.getdoc(fn))
        parameters = [*own, *_global_parameters(formats)]
        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters, return_annotation=inspect.Signature.empty
        )
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        app.command(name, **kwargs)(wrapper)
        return wrapper

    return decorate
