"""Recorded training runs: reading back the project's ``.intoto.jsonl`` log.

``ssdf record`` appends one line per run to ``PROJECT/.intoto.jsonl``: a DSSE envelope around an
in-toto Statement v1 whose predicate is SLSA provenance v1 (:data:`SLSA_PREDICATE`, build type
:data:`BUILD_TYPE`). This module is the one reader of that log, and what other capabilities use
to ask what a run consumed and produced:

- :func:`scan_log` reads every line, verifies its signature against the trusted signers and
  checks the statement, returning the runs and the problems of lines that are no run at all
  (not JSON, not an envelope, not a statement of ours).
- :func:`load_runs` is :func:`scan_log` without those problems.
- :func:`runs_producing` finds the runs whose outputs include a path (or a file under it).
- :func:`output_changes` compares a run's recorded outputs with the files as they are now.
- :func:`datasets_consumed` and :func:`sensitive_outputs` summarise the data runs used
  (PW.3.2 N1: data of unknown provenance; PS.3.2 R2: models trained on sensitive data).

A run whose signature does not verify is still returned, with ``verified=False`` and the reason
in ``problems``: callers decide whether to trust it (they should not). Lines are bounded in size
(:data:`MAX_LINE_BYTES`), parsed strictly, and never executed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssdf_ai.errors import Error, VerificationError

if TYPE_CHECKING:
    from ssdf_ai.integrity.keys import PublicKey
    from ssdf_ai.provenance.registry import DatasetEntry

__all__ = [
    "BUILDER_ID",
    "BUILD_TYPE",
    "LOG_FILE",
    "MAX_LINE_BYTES",
    "SLSA_PREDICATE",
    "RecordedRun",
    "RunResource",
    "datasets_consumed",
    "load_runs",
    "output_changes",
    "runs_producing",
    "scan_log",
    "sensitive_outputs",
    "trusted_signers",
]

LOG_FILE = ".intoto.jsonl"
SLSA_PREDICATE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://ssdf-ai.dev/record/v1"
BUILDER_ID = "https://ssdf-ai.dev/record"
# One envelope a line; an envelope is at most 10 MiB (dsse.MAX_ENVELOPE_BYTES) plus the newline.
MAX_LINE_BYTES = 10 * 1024 * 1024 + 1
MAX_LINES = 1_000_000

INPUT_KINDS = ("dataset", "model", "config", "code", "input")


@dataclasses.dataclass(frozen=True)
class RunResource:
    """One thing a run consumed or produced.

    Attributes:
        name: The project-relative POSIX path; for the code state, its URI
            (``git+<remote>@<commit>`` or ``file:<path>``).
        digest: Hex SHA-256 (or the OMS root of a folder); for code, the git commit; ``None``
            when none was recorded.
        kind: ``dataset``, ``model``, ``config``, ``code`` or ``input`` for what was consumed;
            ``output`` for what was produced (whose ``annotations["kind"]`` says ``model`` or
            ``file``).
        annotations: The resource descriptor's annotations as recorded (``registered``,
            ``provenance``, ``sensitive``, ``license``, ``source`` … for inputs).
    """

    name: str
    digest: str | None
    kind: str
    annotations: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class RecordedRun:
    """One line of ``.intoto.jsonl``: a recorded run, read back and checked.

    Attributes:
        line: The 1-based line number in ``.intoto.jsonl``.
        name: The run's name (``ssdf record --name``).
        invocation_id: Its unique id (a UUID).
        command: The command that ran.
        started_on: When it started (RFC 3339, UTC).
        finished_on: When it finished (RFC 3339, UTC).
        exit_code: Its exit code (128+N when killed by signal N); ``None`` if not recorded.
        inputs: What it consumed: datasets, models, configs, other inputs, the code state.
        outputs: What it produced, one per file.
        environment: ``builder.version`` merged with the ``environment`` byproduct.
        packages: Installed Python distributions as ``(name, version)``.
        git: The code state (``uri``, ``commit``, ``branch``, ``remote``, ``dirty``,
            ``uncommittedSha256``), or ``None`` outside a git work tree.
        signer: The trusted signer whose signature verified, or ``None``.
        verified: Whether the signature verified and the statement is well formed.
        problems: Why it is not verified or not well formed; empty when all is well.
        envelope: The DSSE envelope as stored.
        statement: The in-toto statement it carries (unverified when ``verified`` is false).
    """

    line: int
    name: str
    invocation_id: str
    command: tuple[str, ...]
    started_on: str
    finished_on: str
    exit_code: int | None
    inputs: tuple[RunResource, ...]
    outputs: tuple[RunResource, ...]
    environment: dict[str, Any]
    packages: tuple[tuple[str, str], ...]
    git: dict[str, Any] | None
    signer: str | None
    verified: bool
    problems: tuple[str, ...]
    envelope: dict[str, Any]
    statement: dict[str, Any]

    @property
    def datasets(self) -> tuple[RunResource, ...]:
        """The inputs of kind ``dataset``."""
        return tuple(r for r in self.inputs if r.kind == "dataset")

    @property
    def unsigned(self) -> bool:
        """Whether the line was written with ``--unsigned`` (an envelope without signatures)."""
        return not self.envelope.get("signatures")


# -- trust -----------------------------------------------------------------------------------


def trusted_signers(root: Path) -> tuple[dict[str, PublicKey], list[str]]:
    """The ``[[signers]]`` keys of the project's configuration, and the keys that cannot be used.

    Args:
        root: The project root.

    Returns:
        ``(name -> public key, problems)``; a key file that cannot be read is a problem, never
        trust.

    Raises:
        ConfigError: If the configuration is invalid.
    """
    from ssdf_ai.config import load_config
    from ssdf_ai.errors import InputError
    from ssdf_ai.integrity.keys import load_public_key

    loaded = load_config(root)
    keys: dict[str, PublicKey] = {}
    problems: list[str] = []
    for entry in loaded.config.signers:
        try:
            keys[entry.name] = load_public_key(loaded.root / entry.public_key)
        except InputError as exc:
            problems.append(f"[[signers]] {entry.name!r}: the public key cannot be used: {exc}")
    return keys, problems


# -- reading ---------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line number, bytes)`` for each non-blank line; ``None`` for an oversized one."""
    with open(path, "rb") as handle:
        number = 0
        while True:
            chunk = handle.readline(MAX_LINE_BYTES + 1)
            if not chunk:
                return
            number += 1
            if number > MAX_LINES:
                raise VerificationError(f"{path} has more than {MAX_LINES} lines")
            if len(chunk) > MAX_LINE_BYTES:
                # Skip the rest of the oversized line.
                while chunk and not chunk.endswith(b"\n"):
                    chunk = handle.readline(1 << 20)
                yield number, None
                continue
            text = chunk.strip()
            if text:
                yield number, text


def _b64(text: str) -> bytes:
    standard = text.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)
    try:
        return base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("the envelope's payload is not valid base64") from None


def _open_envelope(
    data: bytes, trusted: Mapping[str, PublicKey]
) -> tuple[dict[str, Any], bytes, str | None, list[str]]:
    """Parse one line: ``(envelope, payload, signer, problems)``.

    Raises:
        VerificationError: If the line is not an envelope whose payload can be read at all.
    """
    from ssdf_ai.provenance.dsse import (
        MAX_PAYLOAD_BYTES,
        PAYLOAD_TYPE_INTOTO,
        load_envelope,
        parse_json,
        unverified_payload,
        verify_envelope,
    )

    value = parse_json(data, "line")
    if not isinstance(value, dict):
        raise VerificationError("not a DSSE envelope: expected a JSON object")
    problems: list[str] = []
    signer: str | None = None
    if value.get("signatures") == [] and isinstance(value.get("payload"), str):
        # Written with --unsigned: nothing vouches for it.
        if len(value["payload"]) > MAX_PAYLOAD_BYTES * 4 // 3 + 4:
            raise VerificationError("the payload is over the size limit")
        envelope, payload = value, _b64(value["payload"])
        problems.append("unsigned: recorded with --unsigned, nothing vouches for it")
    else:
        envelope = load_envelope(data)
        payload = unverified_payload(envelope)
        try:
            verified = verify_envelope(envelope, trusted)
        except VerificationError as exc:
            problems.append(f"signature: {exc.message}")
        else:
            signer = verified.signer
            payload = verified.payload
    if envelope.get("payloadType") != PAYLOAD_TYPE_INTOTO:
        raise VerificationError(
            f"payloadType is {str(envelope.get('payloadType'))[:80]!r}, not {PAYLOAD_TYPE_INTOTO}"
        )
    return envelope, payload, signer, problems


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _resource(descriptor: Any, default_kind: str) -> RunResource | None:
    if not isinstance(descriptor, Mapping):
        return None
    digest = _dict(descriptor.get("digest"))
    annotations = _dict(descriptor.get("annotations"))
    name = _str(descriptor.get("name")) or _str(descriptor.get("uri"))
    value = digest.get("sha256") or digest.get("gitCommit")
    kind = default_kind
    if default_kind != "output":
        declared = annotations.get("kind")
        kind = declared if isinstance(declared, str) and declared in INPUT_KINDS else "input"
    return RunResource(
        name=name,
        digest=value if isinstance(value, str) else None,
        kind=kind,
        annotations=annotations,
    )


def _shape_problems(statement: Mapping[str, Any]) -> list[str]:
    """What a statement of ours must carry that this one lacks."""
    problems: list[str] = []
    predicate = _dict(statement.get("predicate"))
    build = _dict(predicate.get("buildDefinition"))
    details = _dict(predicate.get("runDetails"))
    if build.get("buildType") != BUILD_TYPE:
        problems.append(f"buildDefinition.buildType is not {BUILD_TYPE}")
    external = _dict(build.get("externalParameters"))
    command = external.get("command")
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        problems.append("externalParameters.command is missing or not a list of strings")
    if not isinstance(external.get("name"), str):
        problems.append("externalParameters.name is missing")
    if not isinstance(build.get("resolvedDependencies", []), list):
        problems.append("resolvedDependencies is not a list")
    if _dict(details.get("builder")).get("id") != BUILDER_ID:
        problems.append(f"runDetails.builder.id is not {BUILDER_ID}")
    metadata = _dict(details.get("metadata"))
    problems += [
        f"runDetails.metadata.{key} is missing"
        for key in ("invocationId", "startedOn", "finishedOn")
        if not isinstance(metadata.get(key), str)
    ]
    problems += [
        f"subject {str(_dict(subject).get('name'))[:200]!r} has no sha256"
        for subject in statement.get("subject", [])
        if not isinstance(_dict(_dict(subject).get("digest")).get("sha256"), str)
    ]
    return problems


def _run(
    line: int,
    envelope: dict[str, Any],
    statement: dict[str, Any],
    signer: str | None,
    problems: list[str],
) -> RecordedRun:
    predicate = _dict(statement.get("predicate"))
    build = _dict(predicate.get("buildDefinition"))
    details = _dict(predicate.get("runDetails"))
    external = _dict(build.get("externalParameters"))
    metadata = _dict(details.get("metadata"))
    builder = _dict(details.get("builder"))
    byproducts = {
        _str(b.get("name")): _dict(b.get("annotations"))
        for b in details.get("byproducts", [])
        if isinstance(b, Mapping)
    }
    exit_code = byproducts.get("exit-status", {}).get("exitCode")
    dependencies = build.get("resolvedDependencies", [])
    inputs = tuple(
        r
        for r in (
            _resource(d, "input") for d in (dependencies if isinstance(dependencies, list) else [])
        )
        if r is not None
    )
    outputs = tuple(
        r
        for r in (_resource(s, "output") for s in statement.get("subject", []))
        if r is not None and r.annotations.get("kind") != "invocation"
    )
    packages = tuple(
        (_str(d.get("name")), _str(_dict(d.get("annotations")).get("version")))
        for d in builder.get("builderDependencies", [])
        if isinstance(d, Mapping)
    )
    code = next((r for r in inputs if r.kind == "code" and r.annotations.get("vcs") == "git"), None)
    git: dict[str, Any] | None = None
    if code is not None:
        git = {"uri": code.name, "commit": code.digest, **code.annotations}
        git.pop("kind", None)
    command = external.get("command")
    argv = tuple(c for c in command if isinstance(c, str)) if isinstance(command, list) else ()
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        exit_code = None
    return RecordedRun(
        line=line,
        name=_str(external.get("name")),
        invocation_id=_str(metadata.get("invocationId")),
        command=argv,
        started_on=_str(metadata.get("startedOn")),
        finished_on=_str(metadata.get("finishedOn")),
        exit_code=exit_code,
        inputs=inputs,
        outputs=outputs,
        environment={**_dict(builder.get("version")), **byproducts.get("environment", {})},
        packages=packages,
        git=git,
        signer=signer,
        verified=signer is not None and not problems,
        problems=tuple(problems),
        envelope=envelope,
        statement=statement,
    )


def scan_log(
    root: Path, *, trusted: Mapping[str, PublicKey] | None = None
) -> tuple[list[RecordedRun], list[str]]:
    """Read ``root/.intoto.jsonl``: every run, and the problems of lines that are no run.

    Args:
        root: The project root.
        trusted: Signer name -> public key; ``None`` for the ``[[signers]]`` of the project's
            configuration (keys that cannot be read are reported as problems).

    Returns:
        ``(runs, problems)``: runs oldest first (newest last), each checked (see
        :class:`RecordedRun`); problems as ``"line N: reason"`` for lines that are not a
        readable run, plus configuration problems with the signers' keys. A missing log is
        no runs and no problems.

    Raises:
        ConfigError: If ``trusted`` is ``None`` and the configuration is invalid.
        InputError: If the log cannot be read.
    """
    from ssdf_ai.errors import InputError
    from ssdf_ai.provenance.dsse import parse_statement

    problems: list[str] = []
    if trusted is None:
        trusted, problems = trusted_signers(root)
    path = Path(root) / LOG_FILE
    if not path.exists():
        return [], problems
    if path.is_symlink() or not path.is_file():
        raise InputError(f"{path} is not a regular file", where=path)
    runs: list[RecordedRun] = []
    try:
        for number, data in _lines(path):
            if data is None:
                problems.append(f"line {number}: longer than {MAX_LINE_BYTES} bytes")
                continue
            try:
                envelope, payload, signer, line_problems = _open_envelope(data, trusted)
                statement = parse_statement(payload, predicate_type=SLSA_PREDICATE)
            except Error as exc:
                problems.append(f"line {number}: {exc.message}")
                continue
            line_problems += _shape_problems(statement)
            runs.append(_run(number, envelope, statement, signer, line_problems))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", where=path) from None
    return runs, problems


def load_runs(root: Path, *, trusted: Mapping[str, PublicKey] | None = None) -> list[RecordedRun]:
    """Every recorded run of the project, oldest first (see :func:`scan_log`).

    Lines that are no readable run are left out; :func:`scan_log` reports them.
    """
    return scan_log(root, trusted=trusted)[0]


# -- queries ---------------------------------------------------------------------------------


def _normal(rel_path: str) -> str:
    text = rel_path.replace("\\", "/").strip()
    while text.startswith("./"):
        text = text[2:]
    return text.rstrip("/") or "."


def runs_producing(runs: Iterable[RecordedRun], rel_path: str) -> list[RecordedRun]:
    """The runs whose outputs include ``rel_path`` or a file under it (a folder), in log order.

    Args:
        runs: The runs (from :func:`load_runs`).
        rel_path: A project-relative POSIX path; ``.`` matches every run with outputs.
    """
    wanted = _normal(rel_path)
    found: list[RecordedRun] = []
    for run in runs:
        for output in run.outputs:
            if wanted == "." or output.name == wanted or output.name.startswith(wanted + "/"):
                found.append(run)
                break
    return found


def output_changes(root: Path, run: RecordedRun) -> list[tuple[str, str]]:
    """Compare a run's recorded outputs with the files now: ``(name, "changed"|"missing")``.

    Only SHA-256 of the content counts; modification times are never used.
    """
    from ssdf_ai.evidence import sha256_file

    changes: list[tuple[str, str]] = []
    base = Path(root).resolve()
    for output in run.outputs:
        target = (base / output.name).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            changes.append((output.name, "missing"))
            continue
        try:
            current = sha256_file(target)
        except OSError:
            changes.append((output.name, "missing"))
            continue
        if current != output.digest:
            changes.append((output.name, "changed"))
    return changes


@dataclasses.dataclass(frozen=True)
class ConsumedDataset:
    """A dataset that recorded runs consumed, and what the runs knew of it.

    Attributes:
        name: Its project-relative path.
        digests: The digests it had when consumed.
        registered: Whether every consumption was of a registered dataset.
        provenance: ``known``, ``unknown`` or ``unregistered`` (the worst seen).
        sensitive: Sensitive-data categories recorded for it.
        runs: Names of the runs (with their line) that consumed it.
    """

    name: str
    digests: tuple[str, ...]
    registered: bool
    provenance: str
    sensitive: tuple[str, ...]
    runs: tuple[str, ...]


_PROVENANCE_RANK = {"known": 0, "unknown": 1, "unregistered": 2}


def datasets_consumed(runs: Sequence[RecordedRun]) -> list[ConsumedDataset]:
    """Every dataset the runs consumed, by name, with the worst provenance recorded for it."""
    merged: dict[str, dict[str, Any]] = {}
    for run in runs:
        for dataset in run.datasets:
            entry = merged.setdefault(
                dataset.name,
                {"digests": [], "registered": True, "provenance": "known", "sensitive": [],
                 "runs": []},
            )  # fmt: skip
            if dataset.digest and dataset.digest not in entry["digests"]:
                entry["digests"].append(dataset.digest)
            registered = dataset.annotations.get("registered") is True
            entry["registered"] = entry["registered"] and registered
            provenance = str(dataset.annotations.get("provenance") or "unregistered")
            if provenance not in _PROVENANCE_RANK:
                provenance = "unregistered"
            if _PROVENANCE_RANK[provenance] > _PROVENANCE_RANK[entry["provenance"]]:
                entry["provenance"] = provenance
            for category in _categories(dataset.annotations):
                if category not in entry["sensitive"]:
                    entry["sensitive"].append(category)
            entry["runs"].append(f"{run.name} (line {run.line})")
    return [
        ConsumedDataset(
            name=name,
            digests=tuple(v["digests"]),
            registered=v["registered"],
            provenance=v["provenance"],
            sensitive=tuple(v["sensitive"]),
            runs=tuple(v["runs"]),
        )
        for name, v in sorted(merged.items())
    ]


def _categories(annotations: Mapping[str, Any]) -> list[str]:
    value = annotations.get("sensitive")
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


@dataclasses.dataclass(frozen=True)
class SensitiveOutput:
    """An output of a run that consumed sensitive data (PS.3.2 R2).

    Attributes:
        name: The output's project-relative path.
        kind: ``model`` or ``file``.
        categories: The sensitive-data categories of the data it was made from.
        datasets: The datasets that carried them.
        run: The run's name and line.
    """

    name: str
    kind: str
    categories: tuple[str, ...]
    datasets: tuple[str, ...]
    run: str


def sensitive_outputs(
    runs: Sequence[RecordedRun], *, registry: Mapping[str, DatasetEntry] | None = None
) -> list[SensitiveOutput]:
    """Outputs of runs whose inputs carried sensitive data (the newest run of each output).

    Args:
        runs: The runs.
        registry: The dataset registry now; a dataset registered as sensitive after the run
            (with the content the run consumed) counts too.
    """
    from ssdf_ai.provenance.registry import lookup

    found: dict[str, SensitiveOutput] = {}
    for run in reversed(runs):
        categories: list[str] = []
        sources: list[str] = []
        for resource in run.inputs:
            cats = _categories(resource.annotations)
            if registry and resource.kind == "dataset":
                entry = lookup(dict(registry), resource.name, resource.digest)
                if entry is not None:
                    cats += [c for c in entry.sensitive if c not in cats]
            if cats:
                sources.append(resource.name)
                categories += [c for c in cats if c not in categories]
        if not categories:
            continue
        for output in run.outputs:
            found.setdefault(
                output.name,
                SensitiveOutput(
                    name=output.name,
                    kind=str(output.annotations.get("kind") or "file"),
                    categories=tuple(categories),
                    datasets=tuple(sources),
                    run=f"{run.name} (line {run.line})",
                ),
            )
    return [found[name] for name in sorted(found)]
