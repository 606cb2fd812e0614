"""`make demo` end to end: the demo script runs on a copy of the example and checks itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_script_runs_clean(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TMPDIR": str(tmp_path),
    }
    result = subprocess.run(
        ["bash", str(REPO / "examples" / "demo.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for expected in (
        "valid:",
        "PW.4.4",
        "Intact: every check passed",
        "NOT intact",
        "SSDF-EVID-001",
        "Demo finished",
    ):
        assert expected in result.stdout, expected
    (work,) = tmp_path.iterdir()
    outputs = sorted(p.name for p in (work / "out").iterdir())
    assert outputs == [
        "assessment-results.json",
        "assessment.html",
        "cisa-form.txt",
        "evidence.tar",
        "poam.json",
        "sp800-218a-catalog.json",
        "sp800-218a-profile.json",
        "tampered.tar",
    ]
    for expected in (
        "PO.2.2 │ needs-attestation │ satisfied",
        "gate failed",
        "Pickle calls posix.system",
        "conversion refused: posix.system",
    ):
        assert expected in result.stdout, expected
    # Every command wrote its evidence into the example's copy, none into the working directory.
    assert not (tmp_path / ".ssdf").exists()
    # The malicious pickle was never executed.
    assert not list(work.glob("CANARY*"))
    # The demo works on a copy: the repository's example gets no evidence store.
    assert not (REPO / "examples" / "churn" / ".ssdf").exists()
