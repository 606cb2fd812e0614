"""`ssdf watch`: continuous integrity monitoring of a signed model, run as a real process."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ssdf_ai.integrity import keys, manifest, oms
from ssdf_ai.integrity import watch as engine
from ssdf_ai.integrity.manifest import Serialization
from ssdf_ai.integrity.rules import RULES

SSDF = Path(sys.executable).with_name("ssdf")
ALERT_KEYS = {"event", "time", "path", "kind", "expected", "actual", "signature", "root"}
WEIGHTS = bytes(range(256)) * 20
CONFIG = b'{"hidden_size": 8}\n'
DATA = b"text,label\nhello,1\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass
class Signed:
    project: Path
    model: Path
    signature: Path
    public: Path
    private: Path
    root: str

    def args(self, *extra: str) -> list[str]:
        return [
            str(self.model),
            "--signature",
            str(self.signature),
            "--key",
            str(self.public),
            "--project",
            str(self.project),
            *extra,
        ]


def _sign(model: Path, signature: Path, private: Path, settings: Serialization) -> str:
    signer = oms.Signer(keys.load_private_key(private))
    return oms.sign_model(model, signature, signer, settings).root


@pytest.fixture
def signed(tmp_path: Path) -> Signed:
    project = tmp_path / "project"
    model = project / "model"
    (model / "data").mkdir(parents=True)
    (project / "ssdf.toml").write_text('[project]\nname = "demo"\nkind = "ai-model-producer"\n')
    (model / "weights.bin").write_bytes(WEIGHTS)
    (model / "config.json").write_bytes(CONFIG)
    (model / "data" / "train.csv").write_bytes(DATA)
    for path in (model / "weights.bin", model / "config.json", model / "data" / "train.csv"):
        path.chmod(0o644)
    # The signing key lives outside the project: a key inside it is itself an alert.
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    pair = keys.generate_keypair(key_dir / "signer.key", key_dir / "signer.pub", passphrase=None)
    signature = model / "model.sig"
    root = _sign(model, signature, pair.private_path, Serialization())
    return Signed(project, model, signature, pair.public_path, pair.private_path, root)


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SSDF), "watch", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _alerts(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _replace(path: Path, data: bytes) -> None:
    """Write a file whole in one step, as a deployment would (never seen half written)."""
    tmp = path.with_name(path.name + ".tmp-write")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, path)


class Live:
    """A running `ssdf watch`, its stdout and stderr read line by line."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [str(SSDF), "watch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.stderr_lines: list[str] = []
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self.threads = [
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True)
            for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        ]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _pump(stream: IO[str], sink: queue.Queue[str]) -> None:
        for line in stream:
            sink.put(line)

    def alert(self, within: float = 5.0) -> dict[str, Any]:
        try:
            line = self.out.get(timeout=within)
        except queue.Empty:
            self.close()
            pytest.fail(f"no alert within {within}s; stderr: {self.stderr_lines}")
        value: dict[str, Any] = json.loads(line)
        return value

    def wait_stderr(self, text: str, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.err.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.stderr_lines.append(line)
            if text in line:
                return
        self.close()
        pytest.fail(f"{text!r} never appeared on stderr: {self.stderr_lines}")

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=10)

    def stderr(self) -> str:
        """Everything written to stderr (once the process has ended)."""
        for thread in self.threads:
            thread.join(timeout=5)
        while not self.err.empty():
            self.stderr_lines.append(self.err.get())
        return "".join(self.stderr_lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def live() -> Iterator[list[Live]]:
    started: list[Live] = []
    yield started
    for watcher in started:
        watcher.close()


# -- one check ---------------------------------------------------------------------------


def test_clean_tree_once_exits_0(signed: Signed) -> None:
    done = _run(*signed.args("--once", "--no-record"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"watching 3 files of {signed.model} against {signed.signature}" in done.stderr
    assert signed.root in done.stderr


def test_once_reports_changed_added_and_removed(signed: Signed) -> None:
    (signed.model / "weights.bin").write_bytes(WEIGHTS + b"backdoor")
    (signed.model / "extra.py").write_bytes(b"import os\n")
    (signed.model / "extra.py").chmod(0o644)
    (signed.model / "config.json").unlink()
    done = _run(*signed.args("--once", "--no-record"))
    assert done.returncode == 1, done.stderr
    alerts = {a["path"]: a for a in _alerts(done.stdout)}
    model = signed.model.absolute()
    assert set(alerts) == {
        str(model / "weights.bin"),
        str(model / "extra.py"),
        str(model / "config.json"),
    }
    for alert in alerts.values():
        assert set(alert) >= ALERT_KEYS
        assert alert["event"] == "integrity-alert"
        assert alert["time"].endswith("Z")
        assert alert["signature"] == str(signed.signature)
        assert alert["root"] == signed.root
        assert alert["rule_id"] == "SSDF-INTEG-001"
        assert alert["severity"] == "high"
    changed = alerts[str(model / "weights.bin")]
    assert (changed["kind"], changed["expected"], changed["actual"]) == (
        "changed",
        _sha(WEIGHTS),
        _sha(WEIGHTS + b"backdoor"),
    )
    added = alerts[str(model / "extra.py")]
    assert (added["kind"], added["expected"], added["actual"]) == (
        "added",
        None,
        _sha(b"import os\n"),
    )
    removed = alerts[str(model / "config.json")]
    assert (removed["kind"], removed["expected"], removed["actual"]) == (
        "removed",
        _sha(CONFIG),
        None,
    )


def test_max_events_stops_after_n_alerts_and_output_appends(signed: Signed, tmp_path: Path) -> None:
    (signed.model / "weights.bin").write_bytes(b"other")
    (signed.model / "config.json").write_bytes(b"{}")
    log = tmp_path / "alerts.jsonl"
    log.write_text('{"event": "earlier"}\n')
    args = signed.args("--max-events", "1", "--interval", "0.1", "--no-record", "-o", str(log))
    done = _run(*args)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    lines = _alerts(log.read_text())
    assert [line["event"] for line in lines] == ["earlier", "integrity-alert"]


# -- watching ------------------------------------------------------------------------------


def test_live_changes_are_alerted_within_seconds_and_restores_noticed(
    signed: Signed, live: list[Live]
) -> None:
    watcher = Live(signed.args("--interval", "0.1", "--max-seconds", "60", "--no-record"))
    live.append(watcher)
    watcher.wait_stderr("watching 3 files")
    weights = signed.model / "weights.bin"

    began = time.monotonic()
    _replace(weights, WEIGHTS[:-1] + b"\x00")
    alert = watcher.alert(within=5)
    assert time.monotonic() - began < 5
    assert alert["kind"] == "changed"
    assert alert["path"] == str(weights.absolute())
    assert alert["actual"] == _sha(WEIGHTS[:-1] + b"\x00")

    _replace(weights, WEIGHTS)
    alert = watcher.alert(within=5)
    assert (alert["kind"], alert["path"]) == ("restored", str(weights.absolute()))
    assert alert["expected"] == alert["actual"] == _sha(WEIGHTS)

    dropped = signed.model / "data" / "poison.csv"
    _replace(dropped, b"text,label\ntrigger,0\n")
    alert = watcher.alert(within=5)
    assert (alert["kind"], alert["path"]) == ("added", str(dropped.absolute()))
    dropped.unlink()
    alert = watcher.alert(within=5)
    assert (alert["kind"], alert["path"]) == ("restored", str(dropped.absolute()))

    # SIGTERM ends the watch cleanly; alerts were seen, so the exit code is 1.
    assert watcher.stop(signal.SIGTERM) == 1
    assert "4 alert(s)" in watcher.stderr()
    assert watcher.out.empty()


def test_sigint_without_alerts_exits_0(signed: Signed, live: list[Live]) -> None:
    watcher = Live(signed.args("--interval", "0.1", "--max-seconds", "60", "--no-record"))
    live.append(watcher)
    watcher.wait_stderr("watching 3 files")
    time.sleep(0.3)
    assert watcher.stop(signal.SIGINT) == 0
    stderr = watcher.stderr()
    assert "Traceback" not in stderr
    assert "0 alert(s)" in stderr
    assert watcher.out.empty()


def test_exec_hook_gets_the_alert_and_its_failure_does_not_stop_the_watch(
    signed: Signed, tmp_path: Path
) -> None:
    hook = tmp_path / "hook.py"
    received = tmp_path / "received.jsonl"
    hook.write_text(
        "import json, os, sys\n"
        "data = sys.stdin.read()\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    f.write(json.dumps({'stdin': data, 'path': os.environ['SSDF_ALERT_PATH'],\n"
        "                        'kind': os.environ['SSDF_ALERT_KIND']}) + '\\n')\n"
        "print('hook output')\n"
        "sys.exit(3)\n"
    )
    (signed.model / "config.json").write_bytes(b'{"hidden_size": 9}\n')
    (signed.model / "weights.bin").unlink()
    command = shlex.join([sys.executable, str(hook), str(received)])
    done = _run(*signed.args("--once", "--no-record", "--exec", command))
    assert done.returncode == 1, done.stderr
    alerts = _alerts(done.stdout)  # the hook's own output never reaches stdout
    assert len(alerts) == 2
    calls = [json.loads(line) for line in received.read_text().splitlines()]
    assert [json.loads(c["stdin"]) for c in calls] == alerts
    assert [(c["path"], c["kind"]) for c in calls] == [(a["path"], a["kind"]) for a in alerts]
    assert done.stderr.count("exited with code 3") == 2
    assert "hook output" in done.stderr


def test_exec_of_a_missing_program_is_a_usage_error(signed: Signed) -> None:
    done = _run(*signed.args("--once", "--no-record", "--exec", "no-such-program-xyz --x"))
    assert done.returncode == 2
    assert "no-such-program-xyz" in done.stderr


# -- permissions and keys --------------------------------------------------------------------


def test_world_writable_weights_and_readable_closed_model_are_flagged(signed: Signed) -> None:
    (signed.model / "weights.bin").chmod(0o666)
    (signed.model / "config.json").chmod(0o640)
    done = _run(*signed.args("--once", "--no-record", "--closed"))
    assert done.returncode == 1, done.stderr
    alerts = {Path(a["path"]).name: a for a in _alerts(done.stdout)}
    assert set(alerts) == {"weights.bin", "train.csv"}
    weights = alerts["weights.bin"]
    assert (weights["kind"], weights["rule_id"], weights["severity"], weights["mode"]) == (
        "permissions",
        "SSDF-INTEG-002",
        "high",
        "0666",
    )
    assert "writable by every user" in weights["message"]
    data = alerts["train.csv"]  # world-readable: a problem only for a closed model
    assert (data["kind"], data["severity"], data["mode"]) == ("permissions", "medium", "0644")


def _private_key_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_private_keys_in_the_tree_and_the_project_are_flagged(signed: Signed) -> None:
    in_tree = signed.model / "deploy.pem"
    in_tree.write_bytes(_private_key_pem())
    in_tree.chmod(0o644)
    in_project = signed.project / "secrets" / "release.key"
    in_project.parent.mkdir()
    in_project.write_bytes(_private_key_pem())
    in_project.chmod(0o600)
    # Environments and caches are not searched; a .pem without a private key is no alert.
    (signed.project / ".venv").mkdir()
    (signed.project / ".venv" / "test.key").write_bytes(_private_key_pem())
    (signed.project / "ca.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n")
    done = _run(*signed.args("--once", "--no-record"))
    assert done.returncode == 1, done.stderr
    found = {(Path(a["path"]).name, a["kind"], a["rule_id"]) for a in _alerts(done.stdout)}
    assert found == {
        ("deploy.pem", "added", "SSDF-INTEG-001"),
        ("deploy.pem", "private-key", "SSDF-INTEG-003"),
        ("deploy.pem", "permissions", "SSDF-INTEG-002"),  # readable by every user
        ("release.key", "private-key", "SSDF-INTEG-003"),
    }
    for alert in _alerts(done.stdout):
        assert alert["severity"] == "high"


def test_a_key_git_ignores_is_a_low_alert(signed: Signed) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(signed.project)], check=True)
    keys_dir = signed.project / "keys"
    keys_dir.mkdir()
    (keys_dir / ".gitignore").write_text("*.key\n")
    (keys_dir / "dev.key").write_bytes(_private_key_pem())
    (keys_dir / "dev.key").chmod(0o600)
    (signed.project / "tracked.key").write_bytes(_private_key_pem())
    (signed.project / "tracked.key").chmod(0o600)
    done = _run(*signed.args("--once", "--no-record"))
    severity = {Path(a["path"]).name: a["severity"] for a in _alerts(done.stdout)}
    assert severity == {"dev.key": "low", "tracked.key": "high"}


# -- the signature -------------------------------------------------------------------------


def test_tampered_signature_exits_1_before_watching(signed: Signed) -> None:
    bundle = json.loads(signed.signature.read_bytes())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    resource = statement["predicate"]["resources"][0]
    resource["digest"] = _sha(b"what the attacker ships")
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    signed.signature.write_text(json.dumps(bundle))
    done = _run(*signed.args("--once", "--no-record"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "not authentic" in done.stderr
    assert "does not verify" in done.stderr
    assert "watching" not in done.stderr


def test_signature_from_another_key_exits_1(signed: Signed, tmp_path: Path) -> None:
    other = keys.generate_keypair(tmp_path / "other.key", tmp_path / "other.pub", passphrase=None)
    elsewhere = dataclasses.replace(signed, public=other.public_path)
    done = _run(*elsewhere.args("--once", "--no-record"))
    assert done.returncode == 1
    assert "not authentic" in done.stderr


def test_missing_signature_is_a_usage_error(signed: Signed) -> None:
    signed.signature.unlink()
    done = _run(*signed.args("--once", "--no-record"))
    assert done.returncode == 2
    assert "no signature" in done.stderr


# -- evidence ------------------------------------------------------------------------------


def test_alerts_are_recorded_as_evidence(signed: Signed) -> None:
    from ssdf_ai.store import EvidenceStore

    (signed.model / "config.json").write_bytes(b'{"hidden_size": 1024}\n')
    done = _run(*signed.args("--once"))
    assert done.returncode == 1, done.stderr
    assert (signed.project / ".ssdf").is_dir()
    with EvidenceStore.open(signed.project, create=False) as store:
        runs = store.runs()
        assert [r.command for r in runs] == ["watch"]
        assert runs[0].exit_code == 1
        detail = store.get_run(runs[0].id)
        findings = [f.finding for f in detail.findings]
        assert [(f.rule_id, f.location.path) for f in findings] == [
            ("SSDF-INTEG-001", "model/config.json")
        ]
        assert "PS.1.3.R2" in findings[0].task_ids
        subjects = {(str(s.kind), s.name): s for s in detail.subjects}
        assert ("model", "model") in subjects
        assert subjects["file", "model/config.json"].digest == _sha(b'{"hidden_size": 1024}\n')
        (artifact,) = detail.artifacts
        assert artifact.kind == "integrity-alerts"
        stored = store.read_blob(artifact.digest).decode()
        assert _alerts(stored) == _alerts(done.stdout)


# -- the engine, in process ------------------------------------------------------------------


def test_engine_shards_empty_files_and_links(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    weights = bytes(range(256)) * 10  # 2560 bytes: shards 0-1000, 1000-2000, 2000-2560
    (model / "weights.bin").write_bytes(weights)
    (model / "empty.txt").write_bytes(b"")
    pair = keys.generate_keypair(tmp_path / "k.key", tmp_path / "k.pub", passphrase=None)
    signature = tmp_path / "model.sig"
    _sign(model, signature, pair.private_path, Serialization(method="shards", shard_size=1000))
    trust = oms.Trust(public_key=keys.load_public_key(pair.public_path))
    statement, signer, problems = oms.verify_bundle(signature, trust)
    assert signer is not None
    assert problems == []
    watcher = engine.Watcher(model, statement, signature=signature)
    assert watcher.files == 2
    assert watcher.check() == []

    tampered = bytearray(weights)
    tampered[1500] ^= 1
    _replace(model / "weights.bin", bytes(tampered))
    (alert,) = watcher.check()
    assert (alert.kind, alert.resource) == (engine.CHANGED, "weights.bin:1000:2000")
    assert alert.expected == _sha(weights[1000:2000])
    assert alert.actual == _sha(bytes(tampered[1000:2000]))
    assert "1 of 3 shard(s)" in alert.message
    finding = alert.finding(tmp_path)
    assert (finding.location.path, finding.location.address) == (
        "model/weights.bin",
        "weights.bin:1000:2000",
    )
    assert watcher.check() == []  # reported once

    (model / "empty.txt").unlink()
    (alert,) = watcher.check()
    assert (alert.kind, alert.expected, alert.actual) == (engine.REMOVED, _sha(b""), None)
    (model / "empty.txt").write_bytes(b"")
    (alert,) = watcher.check()
    assert alert.kind == engine.RESTORED

    (model / "link").symlink_to(model / "weights.bin")
    (alert,) = watcher.check()
    assert alert.kind == engine.UNVERIFIABLE
    assert "symbolic link" in alert.message
    assert watcher.check() == []  # the same problem is alerted once
    (model / "link").unlink()
    _replace(model / "weights.bin", weights)
    (alert,) = watcher.check()
    assert (alert.kind, alert.path) == (engine.RESTORED, (model / "weights.bin").absolute())


def test_engine_alerts_once_on_an_unreadable_file(
    signed: Signed, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust = oms.Trust(public_key=keys.load_public_key(signed.public))
    statement, _, _ = oms.verify_bundle(signed.signature, trust)
    watcher = engine.Watcher(signed.model, statement, signature=signed.signature)
    real = manifest.hash_file_range

    def denied(path: Path, *args: Any) -> str:
        if path.name == "config.json":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args)

    monkeypatch.setattr(engine, "hash_file_range", denied)
    (alert,) = watcher.check()
    assert (alert.kind, alert.rule_id, alert.resource) == (
        engine.UNVERIFIABLE,
        "SSDF-INTEG-001",
        "config.json",
    )
    assert "Permission denied" in alert.message
    assert watcher.check() == []
    monkeypatch.setattr(engine, "hash_file_range", real)
    assert watcher.check() == []  # readable again, and as signed


def test_engine_trusts_signed_stats_only_when_asked(signed: Signed) -> None:
    trust = oms.Trust(public_key=keys.load_public_key(signed.public))
    statement, _, problems = oms.verify_bundle(signed.signature, trust)
    assert problems == []
    weights = signed.model / "weights.bin"
    before = weights.stat()
    weights.write_bytes(WEIGHTS[::-1])  # same size; the modification time is put back
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    quick = engine.Watcher(
        signed.model, statement, signature=signed.signature, trust_signed_stats=True
    )
    assert quick.check() == []
    full = engine.Watcher(signed.model, statement, signature=signed.signature)
    assert [a.kind for a in full.check()] == [engine.CHANGED]


def test_permission_rules() -> None:
    problems = engine.permission_problems
    assert problems(0o644, private_key=False, closed=False) == []
    assert problems(0o666, private_key=False, closed=False) == [("high", "writable by every user")]
    assert problems(0o644, private_key=False, closed=True) == [("medium", "readable by every user")]
    assert problems(0o600, private_key=True, closed=False) == []
    assert problems(0o640, private_key=True, closed=False) == []
    assert problems(0o620, private_key=True, closed=False) == [("high", "writable by its group")]
    assert problems(0o604, private_key=True, closed=False) == [("high", "readable by every user")]
    assert engine.is_private_key(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert engine.is_private_key(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert not engine.is_private_key(b"-----BEGIN PUBLIC KEY-----\n")


def test_rules_name_tasks_of_the_profile() -> None:
    from ssdf_ai.profile._loader import load_catalog

    ids = set(load_catalog().ids())
    assert set(RULES) == {"SSDF-INTEG-001", "SSDF-INTEG-002", "SSDF-INTEG-003", "SSDF-INTEG-004"}
    for rule in RULES.values():
        assert set(rule.task_ids) <= ids, rule.id
    assert {"PS.1.3", "PS.2.1", "PS.1.2", "PO.5.3"} <= {
        t for r in RULES.values() for t in r.task_ids
    }


def test_watch_help_stays_light() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ssdf_ai.cli import app\n"
        "assert CliRunner().invoke(app, ['watch', '--help']).exit_code == 0\n"
        "heavy = ('pydantic', 'sqlalchemy', 'alembic', 'yaml', 'cryptography')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
