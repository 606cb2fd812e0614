"""Helpers for the evidence store tests: records, archive surgery and the CLI."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.evidence import Subject, SubjectKind
from ssdf_ai.findings import Finding, Location, Severity
from ssdf_ai.store import EvidenceStore


def finding(n: int, severity: Severity = Severity.HIGH) -> Finding:
    """A finding with a recognisable message."""
    return Finding(
        rule_id="SSDF-TEST-001",
        severity=severity,
        message=f"problem number {n}",
        location=Location(path="models/model.pkl", address=f"opcode {n}"),
        cwe=("CWE-502",),
        task_ids=("PW.4.4",),
    )


def populate(store: EvidenceStore) -> list[int]:
    """Record two runs with subjects, artifacts and findings; return their ids."""
    ids = []
    with store.run("scan", ["scan", "models/"]) as run:
        model = run.add_subject(Subject(kind=SubjectKind.MODEL, name="models/m", digest="a" * 64))
        run.add_artifact(
            b'{"scan": 1}',
            kind="scan-report",
            media_type="application/json",
            subject_id=model,
            name="scan.json",
        )
        run.add_finding(finding(1), subject_id=model)
        run.add_finding(finding(2, Severity.LOW))
        run.set_exit_code(1)
        ids.append(run.id)
    with store.run("sign", ["sign"]) as run:
        run.add_artifact(
            b"signature bytes", kind="signature", media_type="application/octet-stream"
        )
        run.add_artifact(b'{"scan": 1}', kind="scan-report", media_type="application/json")
        ids.append(run.id)
    return ids


@dataclass
class Member:
    """One member of an archive being rebuilt."""

    info: tarfile.TarInfo
    data: bytes


def read_members(path: Path) -> list[Member]:
    """Read every member of a (trusted, test-made) archive into memory."""
    members = []
    with tarfile.open(path, "r:*") as tar:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            members.append(Member(info, handle.read() if handle else b""))
    return members


def write_members(path: Path, members: list[Member], fmt: int = tarfile.PAX_FORMAT) -> Path:
    """Write members to a plain tar file, sizes taken from the data of regular files."""
    with tarfile.open(path, "w", format=fmt) as tar:
        for m in members:
            if m.info.isreg():
                m.info.size = len(m.data)
                tar.addfile(m.info, io.BytesIO(m.data))
            else:
                tar.addfile(m.info)
    return path


def regular(name: str, data: bytes) -> Member:
    """A regular file member."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return Member(info, data)


@dataclass
class CliResult:
    """What one CLI invocation produced."""

    code: int
    stdout: str
    stderr: str


def cli(*args: str | Path) -> CliResult:
    """Invoke the real ``ssdf`` app in-process; a bug (not an exit) is re-raised."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)
