"""The reports of ``ssdf record``, ``ssdf provenance verify|list`` and ``ssdf data register|list``.

Only pydantic and rich are imported here, so the report classes are cheap to load for rendering
and JSON Schema generation. Names and paths come from recorded files: they are always shown
literally, never as rich markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ssdf_ai.report.base import Report

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from ssdf_ai.provenance.runs import RecordedRun, RunResource


def _table(title: str | None, *columns: str) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _row(table: Table, *cells: str) -> None:
    from rich.markup import escape

    table.add_row(*(escape(cell) for cell in cells))


def _short(digest: str | None) -> str:
    return digest[:16] if digest else ""


class ResourceInfo(BaseModel):
    """One input or output of a run, as reports show it.

    Attributes:
        name: Project-relative path (or URI for the code state).
        digest: Hex SHA-256 (OMS root for a folder; the commit for code).
        kind: dataset, model, config, code, input, or output.
        provenance: For datasets: known, unknown or unregistered.
        sensitive: Sensitive-data categories it carries.
        annotations: Everything recorded about it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    digest: str | None = None
    kind: str
    provenance: str | None = None
    sensitive: list[str] = Field(default_factory=list)
    annotations: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, resource: RunResource) -> ResourceInfo:
        """From a :class:`~ssdf_ai.provenance.runs.RunResource`."""
        sensitive = resource.annotations.get("sensitive")
        provenance = resource.annotations.get("provenance")
        return cls(
            name=resource.name,
            digest=resource.digest,
            kind=resource.kind,
            provenance=provenance if isinstance(provenance, str) else None,
            sensitive=[c for c in sensitive if isinstance(c, str)]
            if isinstance(sensitive, list)
            else [],
            annotations=dict(resource.annotations),
        )

    def label(self) -> str:
        """``name (kind, provenance)`` for tables."""
        notes = [self.kind]
        if self.provenance and self.provenance != "known":
            notes.append(self.provenance)
        if self.sensitive:
            notes.append("sensitive: " + ",".join(self.sensitive))
        return f"{self.name} ({'; '.join(notes)})"


class RecordReport(Report):
    """``ssdf record``: the run recorded, written to stderr (stdout is the command's).

    Attributes:
        name: The run's name.
        invocation_id: Its unique id.
        command: The command that ran.
        exit_status: The command's exit code (128+N when killed by signal N), which is also
            what ``ssdf record`` exits with.
        log: The ``.intoto.jsonl`` file.
        line: The line written.
        signed: Whether the provenance is signed.
        key_id: The signing key's id.
        run_id: The evidence-store run.
        inputs: Inputs as recorded.
        outputs: Output files as recorded.
        missing_outputs: Outputs named but not there after the run.
        warnings: Unregistered or unknown-provenance data, sensitive data, an untrusted key.
    """

    report_type: ClassVar[str] = "record"

    name: str
    invocation_id: str
    command: list[str]
    exit_status: int
    log: str
    line: int
    signed: bool
    key_id: str | None = None
    run_id: int | None = None
    inputs: list[ResourceInfo] = Field(default_factory=list)
    outputs: list[ResourceInfo] = Field(default_factory=list)
    missing_outputs: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def exit_code(self) -> int:
        """The recorded command's exit code: ``ssdf record`` passes it through."""
        return self.exit_status

    def lines(self) -> list[str]:
        """The status lines printed on stderr."""
        how = f"signed (key {self.key_id[:16]})" if self.signed and self.key_id else "UNSIGNED"
        evidence = f", evidence run:{self.run_id}" if self.run_id is not None else ""
        lines = [
            f"recorded run {self.name!r} (exit {self.exit_status}) as line {self.line} of "
            f"{self.log}, {how}{evidence}"
        ]
        lines += [f"  output {o.name} sha256 {o.digest}" for o in self.outputs]
        lines += [f"  missing output {name}" for name in self.missing_outputs]
        lines += [
            f"  input {i.label()} {i.digest or ''}".rstrip()
            for i in self.inputs
            if not i.annotations.get("vcs")
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return lines

    def terminal(self) -> RenderableType:
        """The status lines, literally."""
        from rich.text import Text

        return Text("\n".join(self.lines()))


class RunSummary(BaseModel):
    """One recorded run, as ``provenance list`` and ``provenance verify`` show it.

    Attributes:
        line: Its line in ``.intoto.jsonl``.
        name: Its name.
        invocation_id: Its unique id.
        command: The command.
        started_on: When it started (RFC 3339 UTC).
        finished_on: When it finished.
        exit_code: The command's exit code.
        verified: Signature verified by a trusted signer and statement well formed.
        signer: Who signed it.
        inputs: What it consumed.
        outputs: What it produced.
        problems: What is wrong with it (signature, statement, outputs changed since).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    name: str
    invocation_id: str
    command: list[str]
    started_on: str
    finished_on: str
    exit_code: int | None
    verified: bool
    signer: str | None
    inputs: list[ResourceInfo] = Field(default_factory=list)
    outputs: list[ResourceInfo] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, run: RecordedRun, extra_problems: list[str] | None = None) -> RunSummary:
        """From a :class:`~ssdf_ai.provenance.runs.RecordedRun`."""
        return cls(
            line=run.line,
            name=run.name,
            invocation_id=run.invocation_id,
            command=list(run.command),
            started_on=run.started_on,
            finished_on=run.finished_on,
            exit_code=run.exit_code,
            verified=run.verified and not extra_problems,
            signer=run.signer,
            inputs=[ResourceInfo.of(r) for r in run.inputs],
            outputs=[ResourceInfo.of(r) for r in run.outputs],
            problems=[*run.problems, *(extra_problems or [])],
        )


class ProvenanceListReport(Report):
    """``ssdf provenance list``: every recorded run, oldest first.

    Attributes:
        log: The ``.intoto.jsonl`` file.
        runs: The runs.
        problems: Lines that are no readable run, and unusable signer keys.
    """

    report_type: ClassVar[str] = "provenance-list"

    log: str
    runs: list[RunSummary] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    def terminal(self) -> RenderableType:
        """A table of runs, then the problems."""
        from rich.console import Group
        from rich.text import Text

        if not self.runs and not self.problems:
            return Text(f"no runs recorded in {self.log}")
        table = _table(
            f"{len(self.runs)} run(s) in {self.log}",
            "line", "name", "finished (UTC)", "exit", "inputs", "outputs", "verified",
        )  # fmt: skip
        for run in self.runs:
            _row(
                table,
                str(run.line),
                run.name,
                run.finished_on,
                "" if run.exit_code is None else str(run.exit_code),
                "\n".join(i.label() for i in run.inputs if not i.annotations.get("vcs")),
                "\n".join(o.name for o in run.outputs),
                f"yes ({run.signer})" if run.verified else "NO",
            )
        parts: list[RenderableType] = [table]
        parts += [Text(f"problem: {p}") for p in self.problems]
        return Group(*parts)


class ProvenanceVerifyReport(Report):
    """``ssdf provenance verify``: every line signed by a trusted signer, well formed, and its
    outputs unchanged since.

    Attributes:
        log: The ``.intoto.jsonl`` file.
        verified: No problem anywhere.
        runs: Each run with its problems.
        problems: Lines that are no readable run, and unusable signer keys.
    """

    report_type: ClassVar[str] = "provenance-verify"

    log: str
    verified: bool
    runs: list[RunSummary] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    def exit_code(self) -> int:
        """0 when everything verified, 1 on any problem."""
        return 0 if self.verified else 1

    def terminal(self) -> RenderableType:
        """One line per run, then every problem."""
        from rich.console import Group
        from rich.text import Text

        lines: list[RenderableType] = []
        for run in self.runs:
            status = f"ok, signed by {run.signer}" if not run.problems else "FAILED"
            lines.append(Text(f"line {run.line}: {run.name} ({run.finished_on}): {status}"))
            lines += [Text(f"  {p}") for p in run.problems]
        lines += [Text(f"problem: {p}") for p in self.problems]
        verdict = (
            f"verified: {len(self.runs)} run(s) in {self.log}"
            if self.verified
            else f"NOT verified: {self.log} has problems"
        )
        if not self.runs and not self.problems:
            verdict = f"no runs recorded in {self.log}"
        lines.append(Text(verdict, style="green" if self.verified else "red"))
        return Group(*lines)


class RegistrationReport(Report):
    """``ssdf data register``: the registration recorded.

    Attributes:
        entry: The registration (a :class:`~ssdf_ai.provenance.registry.DatasetEntry` as JSON).
        run_id: The evidence-store run.
        warnings: Unknown provenance, sensitive data, a licence of NOASSERTION.
    """

    report_type: ClassVar[str] = "data-register"

    entry: dict[str, Any]
    run_id: int
    warnings: list[str] = Field(default_factory=list)

    def terminal(self) -> RenderableType:
        """A short table of the registration."""
        from rich.console import Group
        from rich.text import Text

        table = _table(f"Registered dataset (run {self.run_id})", "field", "value")
        table.show_header = False
        for key in ("path", "digest", "digest_method", "source", "license", "provenance"):
            _row(table, key, str(self.entry.get(key, "")))
        _row(table, "sensitive", ", ".join(self.entry.get("sensitive") or []) or "none")
        if self.entry.get("description"):
            _row(table, "description", str(self.entry["description"]))
        return Group(table, *(Text(f"warning: {w}") for w in self.warnings))


class RegistryRow(BaseModel):
    """One registered dataset and whether it still has the registered content.

    Attributes:
        path: Project-relative path.
        digest: The registered digest.
        current_digest: Its digest now; ``None`` when it is gone.
        status: ``unchanged``, ``changed`` (since registration) or ``missing``.
        source: Where it came from.
        license: Its licence.
        provenance: known or unknown.
        sensitive: Sensitive-data categories.
        registered_at: When it was registered (ISO 8601 UTC).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    digest: str
    current_digest: str | None
    status: str
    source: str
    license: str
    provenance: str
    sensitive: list[str] = Field(default_factory=list)
    registered_at: str


class ConsumedRow(BaseModel):
    """A dataset that recorded runs consumed without known provenance (PW.3.2 N1).

    Attributes:
        name: Project-relative path.
        provenance: ``unregistered`` or ``unknown``.
        runs: The runs that consumed it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    provenance: str
    runs: list[str] = Field(default_factory=list)


class SensitiveRow(BaseModel):
    """A model (or other output) made from sensitive data, and the restriction it carries.

    Attributes:
        name: The output's project-relative path.
        kind: model or file.
        categories: Sensitive-data categories of its data.
        restrictions: Category -> access restriction from ``[data]`` (PS.3.2 R2).
        datasets: The datasets that carried them.
        run: The run that made it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: str
    categories: list[str]
    restrictions: dict[str, str]
    datasets: list[str]
    run: str


class DataListReport(Report):
    """``ssdf data list``: the dataset registry, data of unknown provenance that runs used, and
    models made from sensitive data.

    Attributes:
        datasets: Every registered dataset, with its current state.
        unknown_provenance: Datasets recorded runs consumed that are unregistered or of unknown
            provenance (PW.3.2 N1).
        sensitive_models: Outputs of runs that consumed sensitive data (PS.3.2 R2).
        problems: Problems reading the run log.
    """

    report_type: ClassVar[str] = "data-list"

    datasets: list[RegistryRow] = Field(default_factory=list)
    unknown_provenance: list[ConsumedRow] = Field(default_factory=list)
    sensitive_models: list[SensitiveRow] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    def terminal(self) -> RenderableType:
        """Three tables: the registry, unknown provenance, sensitive models."""
        from rich.console import Group
        from rich.text import Text

        parts: list[RenderableType] = []
        if self.datasets:
            table = _table(
                f"{len(self.datasets)} registered dataset(s)",
                "path", "status", "provenance", "licence", "source", "sensitive", "digest",
            )  # fmt: skip
            for d in self.datasets:
                status = d.status.upper() if d.status != "unchanged" else d.status
                _row(
                    table,
                    d.path,
                    status,
                    d.provenance,
                    d.license,
                    d.source,
                    ", ".join(d.sensitive),
                    _short(d.digest),
                )
            parts.append(table)
        else:
            parts.append(Text("no datasets registered (ssdf data register)"))
        if self.unknown_provenance:
            table = _table(
                "Data used by recorded runs without known provenance (PW.3.2)",
                "dataset", "provenance", "runs",
            )  # fmt: skip
            for c in self.unknown_provenance:
                _row(table, c.name, c.provenance, "\n".join(c.runs))
            parts.append(table)
        if self.sensitive_models:
            table = _table(
                "Made from sensitive data: access restrictions (PS.3.2)",
                "output", "kind", "categories", "restriction", "run",
            )  # fmt: skip
            for s in self.sensitive_models:
                _row(
                    table,
                    s.name,
                    s.kind,
                    ", ".join(s.categories),
                    "\n".join(f"{c}: {r}" for c, r in s.restrictions.items()),
                    s.run,
                )
            parts.append(table)
        parts += [Text(f"problem: {p}") for p in self.problems]
        return Group(*parts)
