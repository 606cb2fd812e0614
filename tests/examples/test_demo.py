"""`make demo` end to end: the demo script runs on a copy of the example and checks itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
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
        "DATA_CARD.md",
        "MODEL_CARD.md",
        "assessment-results.json",
        "assessment.html",
        "churn-1.0.0.tar.gz",
        "churn-model.cdx.json",
        "churn-model.sig",
        "churn-model.spdx.json",
        "cisa-form.txt",
        "data-report.html",
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
    # The code and environment checks find the example's planted mistakes.
    for expected in (
        "== 6. Unsafe AI code",
        "SSDF-CODE-003",
        "SSDF-SECRET-003",
        "GHSA-53q9-r3pm-6pq6",
        "SSDF-ENV-014",
    ):
        assert expected in words, expected
    for expected in (
        "== 9. Sign the acquired model",
        "(key,",
        "3 file(s), 3 resource(s) match exactly",
        "NOT verified",
        "1 difference(s)",
        "model.safetensors",
    ):
        assert expected in words, expected
    # The example's own model: trained under `ssdf record` from registered data, signed,
    # described (BOMs, cards) and released; the release verifies, and every provenance,
    # BOM, card and release control turned satisfied.
    for expected in (
        "== 10. Register the training data",
        "source │ file:generate_data.py",
        "provenance │ known",
        "sensitive │ none",
        "trained gradient-boosting: accuracy",
        "line 1: train-churn",
        "ok, signed by Priya Natarajan",
        "verified: 1 run(s)",
        "== 11. Sign the trained model",
        "## Why this model",
        "HistGradientBoostingClassifier",
        "== 12. Release 1.0.0",
        "released churn 1.0.0 from models/churn-model.skops",
        "provenance.intoto.jsonl",
        "passed provenance: 1 envelope(s) verify",
        "passed weights:",
    ):
        assert expected in words, expected
    # `ssdf record` reports on stderr: the command it runs owns stdout.
    errors = " ".join(result.stderr.split())
    for expected in (
        "recorded run 'train-churn' (exit 0) as line 1 of",
        "output models/churn-model.skops sha256",
        "input data/customers.csv (dataset)",
        "wrote SPDX document to",
    ):
        assert expected in errors, expected
    assert "failed " not in result.stdout.split("== 12. Release")[1].split("== 13.")[0]
    for control_id in (
        "training-provenance-recorded",
        "data-provenance-tracked",
        "sensitive-data-tracked",
        "bom-generated",
        "cards-generated",
        "release-archived",
    ):
        assert f"│ {control_id} │ not-satisfied │ satisfied │" in words, control_id
    for path in ("churn-model.cdx.json", "churn-model.spdx.json"):
        assert json.loads((work / "out" / path).read_text())
    card = (work / "out" / "MODEL_CARD.md").read_text()
    assert "## Why this model" in card
    assert "data/customers.csv" in card
    with tarfile.open(work / "out" / "churn-1.0.0.tar.gz") as archive:
        names = {Path(m.name).name for m in archive.getmembers()}
    assert {"model.sig", "provenance.intoto.jsonl", "bom.cdx.json", "bom.spdx.json",
            "MODEL_CARD.md", "release.json", "release.sig"} <= names  # fmt: skip
    # The signature went to the outputs: neither the example nor its copy holds one.
    assert not list((REPO / "examples" / "churn").rglob("*.sig"))
    assert not list((work / "churn").rglob("*.sig"))
    # Every command wrote its evidence into the example's copy, none into the working directory.
    assert not (tmp_path / ".ssdf").exists()
    # The malicious pickle was never executed.
    assert not list(work.glob("CANARY*"))
    # The demo works on a copy: the repository's example gets no evidence store, no training
    # log, no trained model and no release.
    example = REPO / "examples" / "churn"
    assert not (example / ".ssdf").exists()
    assert not (example / ".intoto.jsonl").exists()
    assert not (example / "releases").exists()
    assert sorted(p.name for p in (example / "models").iterdir()) == ["README.md"]
