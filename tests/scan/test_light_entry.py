"""``ssdf scan --quiet --no-record``'s light path (ssdf_ai._entry): the same exit codes as the
full command line, without typer, rich or pydantic, and a fall-back for everything else.

The full path is forced by adding ``--verbose``, which the light path does not serve; every
other argument is the same, so each pair of runs must agree.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from model_fixtures import payload

from ssdf_ai._entry import _parse, _settings, scan_gate
from ssdf_ai._project import STAMP_DIR, STATE_DIR
from ssdf_ai.config import default_config
from ssdf_ai.config._load import light_settings


def _ssdf(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a fresh interpreter."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "ssdf_ai", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A benign pickle, a payload, and a file nothing can scan, each in its own folder; the
    working directory (the light path runs in this process, the full one in a child)."""
    monkeypatch.chdir(tmp_path)
    for name, data in {
        "benign/weights.pkl": pickle.dumps({"w": [1.0, 2.0]}),
        "payload/model.pkl": payload(tmp_path / "CANARY"),
        "unknown/blob.bin": bytes(range(256)),
    }.items():
        path = tmp_path / name
        path.parent.mkdir()
        path.write_bytes(data)
    return tmp_path


CASES = [
    ("benign", ()),
    ("benign", ("--fail-on", "medium")),
    ("payload", ()),
    ("payload", ("--fail-on=CRITICAL",)),
    ("unknown", ("--fail-on", "high")),
    ("unknown", ("--fail-on", "critical")),
    ("payload", ("--max-depth", "0", "--max-member-size", "4096")),
]


@pytest.mark.parametrize(("folder", "extra"), CASES)
def test_the_light_path_exits_as_the_full_command_does(
    corpus: Path, folder: str, extra: tuple[str, ...]
) -> None:
    args = ["scan", folder, "--no-record", "-q", *extra]
    light = scan_gate([*args[1:], "--project", str(corpus)])
    assert light is not None  # served by the light path
    full = _ssdf(*args, "--verbose", cwd=corpus)
    assert light == full.returncode, full.stderr
    assert _ssdf(*args, cwd=corpus).returncode == full.returncode
    assert not (corpus / "CANARY").exists()
    assert not (corpus / STATE_DIR).exists()  # --no-record: nothing written


def test_the_light_path_loads_neither_typer_nor_pydantic_nor_rich(corpus: Path) -> None:
    code = (
        "import sys; from ssdf_ai._entry import scan_gate; "
        "rc = scan_gate(['payload', '--no-record', '--quiet']); "
        "print(rc, sorted(m for m in ('typer', 'click', 'pydantic', 'rich', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=corpus, capture_output=True, text=True, check=True
    )
    assert done.stdout.split(None, 1) == ["1", "[]\n"]


def test_no_configuration_means_the_configurations_defaults(tmp_path: Path) -> None:
    assert _settings(tmp_path) == light_settings(default_config(tmp_path))


@pytest.mark.parametrize(
    "argv",
    [
        ["m.pkl", "--no-record"],  # not quiet: the report is rendered by the full command
        ["m.pkl", "-q"],  # recording needs the evidence store
        ["m.pkl", "-q", "--no-record", "--format", "json"],
        ["m.pkl", "-q", "--no-record", "-f=terminal"],
        ["m.pkl", "-q", "--no-record", "--output", "out.txt"],
        ["m.pkl", "-q", "--no-record", "--help"],
        ["m.pkl", "-q", "--no-record", "--fail-on"],
        ["m.pkl", "-q", "--no-record", "--fail-on", "low", "--fail-on", "high"],
        ["m.pkl", "-q", "--no-record", "--max-depth", "-1"],
        ["m.pkl", "-q", "--no-record", "--max-member-size", "0"],
        ["m.pkl", "-q", "--no-record", "--fail-on", "severe"],
        ["m.pkl", "-q", "--no-record", "--record"],
        ["-q", "--no-record"],
    ],
)
def test_anything_else_goes_to_the_full_command(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "m.pkl").write_bytes(pickle.dumps([1]))
    assert scan_gate([*argv, "--project", str(tmp_path)]) is None


def test_parse_takes_paths_after_a_double_dash() -> None:
    args = _parse(["-q", "--no-record", "--", "--odd-name.pkl", "-q"])
    assert args is not None
    assert [str(p) for p in args.paths] == ["--odd-name.pkl", "-q"]


def test_the_full_command_reports_what_the_light_path_leaves(corpus: Path) -> None:
    done = _ssdf("scan", "payload", "-q", "--no-record", "--fail-on", "severe", cwd=corpus)
    assert done.returncode == 2
    assert "severe" in done.stderr
    help_text = _ssdf("scan", "--help", "-q", "--no-record", cwd=corpus)
    assert help_text.returncode == 0
    assert "--fail-on" in help_text.stdout


def test_a_missing_path_is_an_error_on_the_light_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = scan_gate(["nowhere.pkl", "-q", "--no-record", "--project", str(tmp_path)])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


PROJECT = '[project]\nname = "p"\nkind = "ai-model-producer"\n'


def _stamps(root: Path) -> list[Path]:
    folder = root.joinpath(STATE_DIR, *STAMP_DIR)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_validated_configuration_is_used_and_an_edited_one_validated_again(
    corpus: Path,
) -> None:
    (corpus / STATE_DIR).mkdir()
    config = corpus / "ssdf.toml"
    config.write_text(f"{PROJECT}\n[checks]\n")
    argv = ["unknown", "-q", "--no-record", "--project", str(corpus)]
    # Never validated: the full command validates it and leaves the stamp for next time.
    assert scan_gate(argv) is None
    assert _ssdf("scan", *argv).returncode == 1
    assert len(_stamps(corpus)) == 1
    assert scan_gate(argv) == 1

    # Edited: the stamp no longer matches these bytes; validated again, a second stamp.
    config.write_text(config.read_text() + "unsafe_allow_unscanned = true\n")
    assert scan_gate(argv) is None
    assert _ssdf("scan", *argv).returncode == 0
    assert len(_stamps(corpus)) == 2
    assert scan_gate(argv) == 0  # the not-scanned finding is info now, as in the full command


def test_an_invalid_configuration_is_reported_and_never_stamped(corpus: Path) -> None:
    (corpus / STATE_DIR).mkdir()
    (corpus / "ssdf.toml").write_text(f'{PROJECT}\n[checks]\nfail_on = "severe"\n')
    argv = ["benign", "-q", "--no-record", "--project", str(corpus)]
    assert scan_gate(argv) is None
    done = _ssdf("scan", *argv)
    assert done.returncode == 2
    assert "fail_on" in done.stderr
    assert _stamps(corpus) == []


def test_a_tampered_stamp_is_ignored(corpus: Path) -> None:
    (corpus / STATE_DIR).mkdir()
    (corpus / "ssdf.toml").write_text(f'{PROJECT}\n[checks]\nfail_on = "critical"\n')
    argv = ["payload", "-q", "--no-record", "--project", str(corpus)]
    assert _ssdf("scan", *argv).returncode == 1
    [stamp] = _stamps(corpus)
    stamp.write_text('{"checks.fail_on": "nonsense", "checks.unsafe_allow_unscanned": false}')
    assert scan_gate(argv) is None
    stamp.write_text("[1, 2")
    assert scan_gate(argv) is None


def test_no_stamp_is_written_without_a_state_directory(corpus: Path) -> None:
    (corpus / "ssdf.toml").write_text(f"{PROJECT}\n[checks]\n")
    argv = ["benign", "-q", "--no-record", "--project", str(corpus)]
    assert _ssdf("scan", *argv).returncode == 1
    assert not (corpus / STATE_DIR).exists()
    assert scan_gate(argv) is None
