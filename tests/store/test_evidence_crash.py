"""A writer killed with SIGKILL mid-way leaves a consistent store.

The writer process records large artifacts and findings in a loop; the test kills it at a
random moment after it has started writing, several times over, then checks that SQLite's
integrity check passes, every artifact row's blob exists with the right digest, nothing under
``blobs/sha256`` is a partial or temporary file, and new writes still work.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ssdf_ai.store import EvidenceStore, RunStatus

WRITER = """
import os, sys
from pathlib import Path
from ssdf_ai.findings import Finding, Severity
from ssdf_ai.store import EvidenceStore

store = EvidenceStore.open(Path(sys.argv[1]))
with store.run("crash-test", sys.argv) as run:
    i = 0
    while True:
        data = os.urandom(192 * 1024) + str(i).encode()
        run.add_artifact(data, kind="scan-report", media_type="application/octet-stream")
        run.add_finding(Finding(rule_id="SSDF-TEST-001", severity=Severity.LOW,
                                message=f"finding {i}"))
        i += 1
        if i == 3:
            print("writing", flush=True)
"""

ROUNDS = 4


def _kill_a_writer(project: Path, rng: random.Random) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "writing", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.0, 0.25))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_store_is_consistent_after_killed_writers(project: Path) -> None:
    rng = random.Random(os.getpid())
    for _ in range(ROUNDS):
        _kill_a_writer(project, rng)

    db = project / ".ssdf" / "evidence.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    with EvidenceStore.open(project, create=False) as store:
        runs = store.runs()
        assert len(runs) == ROUNDS
        # Killed runs were never finalized: they stay "running", with no exit code.
        assert all(r.status is RunStatus.RUNNING and r.exit_code is None for r in runs)
        artifacts = store.artifacts()
        assert len(artifacts) >= 3 * ROUNDS
        for artifact in artifacts:
            blob = store.blob_path(artifact.digest)
            assert blob.is_file(), f"row {artifact.id} points at a missing blob"
            data = blob.read_bytes()
            assert len(data) == artifact.size
            assert hashlib.sha256(data).hexdigest() == artifact.digest
        checked, problems = store.check()
        assert problems == []
        assert checked == len({a.digest for a in artifacts})

        # Everything under blobs/sha256 is a complete blob named by its digest; partial
        # writes can only be temporary files, which live elsewhere.
        sha_dir = store.directory / "blobs" / "sha256"
        files = [p for p in sha_dir.rglob("*") if p.is_file()]
        for path in files:
            assert path.parent.name == path.name[:2]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
        listed = set(store.blobs.digests())
        assert listed == {p.name for p in files}
        assert {a.digest for a in artifacts} <= listed  # extra blobs: written, row not yet
        tmp_dir = store.directory / "blobs" / "tmp"
        leftovers = list(tmp_dir.iterdir()) if tmp_dir.is_dir() else []
        assert all(p.name.endswith(".tmp") for p in leftovers)
        assert not listed & {p.name for p in leftovers}

        # The store still takes new writes, and they read back.
        with store.run("after-crash", []) as run:
            artifact = run.add_artifact(b"still works", kind="note", media_type="text/plain")
        assert store.read_blob(artifact.digest) == b"still works"
        assert store.get_run(run.id).run.status is RunStatus.FINISHED


def test_stale_temporary_files_are_swept_on_open(project: Path) -> None:
    EvidenceStore.open(project).close()
    tmp_dir = project / ".ssdf" / "blobs" / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    old = tmp_dir / "blob-old.tmp"
    young = tmp_dir / "blob-young.tmp"
    old.write_bytes(b"partial")
    young.write_bytes(b"in progress")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    EvidenceStore.open(project).close()
    assert not old.exists()
    assert young.exists()  # may belong to a writer still at work
