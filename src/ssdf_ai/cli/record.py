"""``ssdf record -- COMMAND`` and ``ssdf provenance verify|list``: signed SLSA provenance of
training runs, kept one DSSE envelope a line in ``PROJECT/.intoto.jsonl``.

``ssdf record`` runs the command with stdin, stdout and stderr untouched and exits with its exit
code; its own report goes to stderr, since stdout belongs to the command. Everything heavy is
imported inside the commands, so ``ssdf --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_NO_SARIF, Output, command, fail
from ssdf_ai.cli.evidence import Project

if TYPE_CHECKING:
    from ssdf_ai.integrity.keys import PublicKey
    from ssdf_ai.provenance.record import InputSpec, RecordResult
    from ssdf_ai.provenance.reports import ProvenanceListReport, ProvenanceVerifyReport

provenance_app = typer.Typer(
    help="Verify and list recorded training runs (signed SLSA provenance in "
    "PROJECT/.intoto.jsonl).",
    no_args_is_help=True,
)

Paths = Annotated[list[Path] | None, typer.Option(show_default=False)]


def _paths(values: list[Path] | None) -> list[Path]:
    return list(values or [])


def _specs(
    inputs: list[Path], datasets: list[Path], base_models: list[Path], configs: list[Path]
) -> list[InputSpec]:
    from ssdf_ai.provenance.record import InputSpec

    return [
        *(InputSpec(p, "dataset") for p in datasets),
        *(InputSpec(p, "model", "base-model") for p in base_models),
        *(InputSpec(p, "config") for p in configs),
        *(InputSpec(p) for p in inputs),
    ]


def _report_lines(result: RecordResult, argv: list[str]) -> tuple[str, str]:
    """The report as JSON and as status lines."""
    from ssdf_ai.provenance.reports import RecordReport, ResourceInfo

    report = RecordReport(
        name=result.name,
        invocation_id=result.invocation_id,
        command=argv,
        exit_status=result.exit_code,
        log=str(result.log),
        line=result.line,
        signed=result.signed,
        key_id=result.key_id,
        run_id=result.run_id,
        inputs=[ResourceInfo.of(r) for r in result.inputs],
        outputs=[ResourceInfo.of(r) for r in result.outputs],
        missing_outputs=list(result.missing_outputs),
        warnings=list(result.warnings),
    )
    return report.model_dump_json(indent=2) + "\n", "\n".join(report.lines()) + "\n"


def register(app: typer.Typer) -> None:  # noqa: C901, PLR0915 - one command and a group
    """Add ``record`` and the ``provenance`` group."""

    @app.command(
        "record",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    def record(
        command_: Annotated[
            list[str],
            typer.Argument(
                metavar="-- COMMAND [ARGS]...",
                help="The command to run, after `--` (run without a shell).",
                show_default=False,
            ),
        ],
        name: Annotated[
            str | None,
            typer.Option(
                "--name",
                help="The run's name (default: the script or program).",
                show_default=False,
            ),
        ] = None,
        input_: Annotated[
            list[Path] | None,
            typer.Option(
                "--input",
                "-i",
                help="An input the run reads; its kind (dataset, model, config, code, input) is "
                "detected. Digested before the run. Repeatable.",
                show_default=False,
            ),
        ] = None,
        dataset: Annotated[
            list[Path] | None,
            typer.Option(
                "--dataset", help="A dataset the run reads. Repeatable.", show_default=False
            ),
        ] = None,
        base_model: Annotated[
            list[Path] | None,
            typer.Option(
                "--base-model",
                help="A model the run starts from (fine-tuning). Repeatable.",
                show_default=False,
            ),
        ] = None,
        config: Annotated[
            list[Path] | None,
            typer.Option(
                "--config",
                help="A configuration file (hyperparameters). Repeatable.",
                show_default=False,
            ),
        ] = None,
        output: Annotated[
            list[Path] | None,
            typer.Option(
                "--output",
                "-o",
                help="A file or folder the run writes; digested after the run (a folder: each "
                "file in it). Repeatable.",
                show_default=False,
            ),
        ] = None,
        key: Annotated[
            Path | None,
            typer.Option(
                "--key",
                help="Private key (PEM, ECDSA P-256) that signs the provenance.",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        passphrase_env: Annotated[
            str | None,
            typer.Option(
                "--passphrase-env",
                metavar="VAR",
                help="Read the key's passphrase from VAR.",
                show_default=False,
            ),
        ] = None,
        unsigned: Annotated[
            bool,
            typer.Option(
                "--unsigned",
                help="Record without a signature (`ssdf provenance verify` reports such lines).",
            ),
        ] = False,
        project: Project = Path("."),
        format_: Annotated[
            str,
            typer.Option(
                "--format", "-f", help="How to write the report on stderr: terminal or json."
            ),
        ] = "terminal",
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="Print nothing but errors and warnings.")
        ] = False,
        verbose: Annotated[
            bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")
        ] = False,
    ) -> None:
        """Run a command and append signed SLSA provenance of the run to PROJECT/.intoto.jsonl.

        Inputs are digested before the run, outputs after it; the environment (Python and
        packages, OS, CPU, GPU and driver, CUDA, compilers) and the git state are captured.
        stdin, stdout and stderr are the command's; this command's report goes to stderr. Exit
        code: the command's (128+N if a signal N killed it), or 2 when it could not be
        recorded.
        """
        from ssdf_ai.cli.evidence import _project, database_url
        from ssdf_ai.errors import Error, InputError

        try:
            if format_.lower() not in ("terminal", "json"):
                raise InputError(f"unknown format {format_!r}", hint="use terminal or json")
            root = _project(project)
            private = None
            if key is not None:
                from ssdf_ai.cli.keys import signing_passphrase
                from ssdf_ai.integrity.keys import load_private_key

                private = load_private_key(key, signing_passphrase(key, passphrase_env))
            elif passphrase_env:
                raise InputError("--passphrase-env needs --key")
            from ssdf_ai.provenance.record import record_run

            argv = list(command_)
            result = record_run(
                root,
                argv,
                name=name,
                inputs=_specs(_paths(input_), _paths(dataset), _paths(base_model), _paths(config)),
                outputs=_paths(output),
                key=private,
                unsigned=unsigned,
                database_url=database_url(root),
                evidence_argv=["ssdf", *sys.argv[1:]],
            )
        except Error as error:
            fail(error, verbose)
        except OSError as error:
            if verbose:
                raise
            fail(InputError(error.strerror or str(error), where=error.filename), False)
        as_json, text = _report_lines(result, argv)
        if format_.lower() == "json":
            sys.stderr.write(as_json)
        elif not quiet:
            sys.stderr.write(text)
        else:
            warnings = [line for line in text.splitlines() if line.startswith("warning:")]
            sys.stderr.write("".join(line + "\n" for line in warnings))
        raise typer.Exit(result.exit_code)

    @command(provenance_app, "verify", formats=FORMATS_NO_SARIF)
    def verify(
        key: Annotated[
            list[Path] | None,
            typer.Option(
                "--key",
                help="Trust this public key (PEM) instead of the [[signers]] of the "
                "configuration. Repeatable.",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        project: Project = Path("."),
        *,
        out: Output,
    ) -> ProvenanceVerifyReport:
        """Verify every recorded run: trusted signature, well-formed statement, same outputs.

        Outputs are compared with the recorded SHA-256 digests. Exit 0 when every line
        verifies, 1 on any problem (unsigned lines, tampered lines, untrusted signers, changed
        or missing outputs, unreadable lines).
        """
        from ssdf_ai.cli.evidence import _project
        from ssdf_ai.provenance.reports import ProvenanceVerifyReport, RunSummary
        from ssdf_ai.provenance.runs import LOG_FILE, output_changes, scan_log

        root = _project(project)
        runs, problems = scan_log(root, trusted=_trusted(key))
        log = root / LOG_FILE
        if not log.exists():
            problems.append(f"no runs recorded: {log} does not exist")
        seen: dict[str, int] = {}
        summaries: list[RunSummary] = []
        for run in runs:
            extra = [
                f"output {name} {'changed since the run' if how == 'changed' else 'is missing'}"
                for name, how in output_changes(root, run)
            ]
            if run.invocation_id in seen:
                extra.append(
                    f"invocation {run.invocation_id} is also line {seen[run.invocation_id]}: "
                    "a replayed line"
                )
            seen.setdefault(run.invocation_id, run.line)
            summaries.append(RunSummary.of(run, extra))
        verified = not problems and all(not s.problems for s in summaries)
        return ProvenanceVerifyReport(
            log=str(log), verified=verified, runs=summaries, problems=problems
        )

    @command(provenance_app, "list", formats=FORMATS_NO_SARIF)
    def list_(project: Project = Path("."), *, out: Output) -> ProvenanceListReport:
        """List recorded runs: name, time, exit code, inputs, outputs, verified signature."""
        from ssdf_ai.cli.evidence import _project
        from ssdf_ai.provenance.reports import ProvenanceListReport, RunSummary
        from ssdf_ai.provenance.runs import LOG_FILE, scan_log

        root = _project(project)
        runs, problems = scan_log(root)
        return ProvenanceListReport(
            log=str(root / LOG_FILE), runs=[RunSummary.of(r) for r in runs], problems=problems
        )

    app.add_typer(provenance_app, name="provenance")


def _trusted(keys: list[Path] | None) -> dict[str, PublicKey] | None:
    if not keys:
        return None
    from ssdf_ai.integrity.keys import load_public_key

    return {f"key {path}": load_public_key(path) for path in keys}
