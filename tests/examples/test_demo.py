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
        "third_party.sig",
    ]
    for expected in (
        "PO.2.2 │ needs-attestation │ satisfied",
        "gate failed",
        "Pickle calls posix.system",
        "conversion refused: posix.system",
        "models-signed       │ not-satisfied │ satisfied",
    ):
        assert expected in result.stdout, expected
    # The acquired model is signed, verified, and a copy with one changed byte is caught
    # (long paths wrap lines: compare with whitespace collapsed).
    words = " ".join(result.stdout.split())
    for expected in (
        "== 8. Sign the acquired model",
        "(key,",
        "3 file(s), 3 resource(s) match exactly",
        "NOT verified",
        "1 difference(s)",
        "model.safetensors",
    ):
        assert expected in words, expected
    # The signature went to the outputs: neither the example nor its copy holds one.
    assert not list((REPO / "examples" / "churn").rglob("*.sig"))
    assert not list((work / "churn").rglob("*.sig"))
    # Every command wrote its evidence into the example's copy, none into the working directory.
    assert not (tmp_path / ".ssdf").exists()
    # The malicious pickle was never executed.
    assert not list(work.glob("CANARY*"))
    # The demo works on a copy: the repository's example gets no evidence store.
    assert not (REPO / "examples" / "churn" / ".ssdf").exists()
