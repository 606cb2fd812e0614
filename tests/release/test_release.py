"""``ssdf release build`` and ``ssdf release verify``: signed, versioned release archives.

A real project (built by ``test_card.full_project``: a registered dataset, a recorded and signed
training run, a scan, a signature, a verification, an assessment) is released once per module;
then the archive is verified, tampered with member by member, extended, cut down, checked with
the wrong key, against changed weights, and replaced by hostile archives (links, ``..``,
absolute paths, devices, thousands of members, a decompression bomb). Verification must name
what is wrong and never write outside its private temporary folder. Every command gets
``--project`` under ``tmp_path``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from test_card import cli, full_project, init_project, write_model

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "docs" / "schema"
TOP = "churn-net-1.0.0"
MEMBERS = (
    "MODEL_CARD.md",
    "assessment.json",
    "bom.cdx.json",
    "bom.spdx.json",
    "model.sig",
    "provenance.intoto.jsonl",
    "release.json",
    "release.sig",
    "scan-report.json",
)


@dataclasses.dataclass(frozen=True)
class Released:
    root: Path
    archive: Path
    pub: Path
    build: dict[str, object]


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Released:
    with pytest.MonkeyPatch.context() as monkeypatch:
        root = full_project(tmp_path_factory.mktemp("release") / "proj", monkeypatch)
    cli("assess", root, "-q", code=None)  # records an assessment whatever its verdict
    key = root / "keys" / "alice.key"
    result = cli("release", "build", root / "models" / "churn", "--version", "1.0.0",
                 "--key", key, "--project", root, "--format", "json")  # fmt: skip
    return Released(
        root=root,
        archive=root / "releases" / f"{TOP}.tar.gz",
        pub=root / "keys" / "alice.pub",
        build=json.loads(result.stdout),
    )


def read_members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive, "r:gz") as tar:
        out = []
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            out.append((member, handle.read() if handle is not None else b""))
        return out


def write_members(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def verify(archive: Path, *args: str | Path, code: int | None = None) -> tuple[int, dict]:
    """Run ``ssdf release verify --format json``; return its exit code and report."""
    result = cli("release", "verify", archive, *args, "--format", "json", code=code)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def checks(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def problems(report: dict) -> str:
    return "\n".join(p for c in report["checks"] for p in c["problems"])


# -- building --------------------------------------------------------------------------------


def test_archive_layout_is_deterministic(released: Released) -> None:
    members = read_members(released.archive)
    names = [m.name for m, _ in members]
    assert names == [f"{TOP}/{n}" for n in MEMBERS]
    created = dt.datetime.fromisoformat(str(released.build["created"]))
    for info, _ in members:
        assert info.isreg()
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mode == 0o644
        assert info.mtime == int(created.timestamp())
        assert not info.name.startswith("/")
        assert ".." not in info.name.split("/")
    with gzip.open(released.archive) as gz:
        gz.read(1)
        assert gz.mtime == int(created.timestamp())


def test_manifest_describes_the_release(released: Released) -> None:
    data = {m.name.split("/", 1)[1]: d for m, d in read_members(released.archive)}
    manifest = json.loads(data["release.json"])
    assert manifest["format"] == "ssdf-ai-release"
    assert (manifest["name"], manifest["version"]) == ("churn-net", "1.0.0")
    assert manifest["model"]["path"] == "models/churn"
    listed = {m["name"]: m["sha256"] for m in manifest["members"]}
    assert set(listed) == set(MEMBERS) - {"release.json", "release.sig"}
    for name, digest in listed.items():
        assert hashlib.sha256(data[name]).hexdigest() == digest
    # The signature is the one `ssdf sign` recorded; the model was trained on pii data.
    signature = (released.root / "models" / "churn" / "model.sig").read_bytes()
    assert data["model.sig"] == signature
    assert any("sensitive data (pii)" in n for n in manifest["notes"])
    recorded = (released.root / ".intoto.jsonl").read_bytes().splitlines()
    released_lines = data["provenance.intoto.jsonl"].splitlines()
    assert [json.loads(x) for x in released_lines] == [json.loads(x) for x in recorded]


def test_build_report_matches_schema_and_archive(released: Released) -> None:
    schema = json.loads((SCHEMAS / "release.schema.json").read_text())
    jsonschema.validate(released.build, schema)
    assert released.build["sha256"] == hashlib.sha256(released.archive.read_bytes()).hexdigest()
    assert released.build["archive"] == str(released.archive)
    notes = [str(n) for n in released.build["notes"]]
    assert not [n for n in notes if "not included" in n], notes


def test_release_is_recorded_as_evidence(released: Released) -> None:
    from ssdf_ai.store import EvidenceStore

    with EvidenceStore.open(released.root, create=False) as store:
        (archive,) = store.artifacts("release-archive")
        (manifest,) = store.artifacts("release-manifest")
        detail = store.get_run(archive.run_id)
    assert detail.run.command == "release"
    assert archive.digest == released.build["sha256"]
    assert archive.media_type == "application/gzip"
    assert archive.name == f"{TOP}.tar.gz"
    assert manifest.run_id == archive.run_id
    (subject,) = detail.subjects
    assert (subject.kind.value, subject.name) == ("model", "models/churn")
    assert subject.digest == released.build["model_digest"]


@pytest.mark.parametrize(
    ("version", "messages"),
    [
        pytest.param("1.0", ("has no signature", "sign it first: `ssdf sign"), id="unsigned"),
        pytest.param("../1", ("invalid release version",), id="bad-version"),
    ],
)
def test_build_refuses(tmp_path: Path, version: str, messages: tuple[str, ...]) -> None:
    root = init_project(tmp_path / "p")
    model = write_model(root / "m")
    result = cli("release", "build", model, "--version", version, "--key",
                 root / "keys" / "alice.key", "--project", root, code=2)  # fmt: skip
    for message in messages:
        assert message in result.output
    assert not (root / "releases").exists()


def test_build_refuses_changed_files_untrusted_signer_and_existing_version(tmp_path: Path) -> None:
    root = init_project(tmp_path / "p")
    model = write_model(root / "models" / "m")
    key = root / "keys" / "alice.key"
    cli("sign", model, "--key", key, "--project", root, "-q")
    write_model(model, value=5.0)
    result = cli("release", "build", model, "--version", "1", "--key", key, "--project", root,
                 code=2)  # fmt: skip
    assert "differ from its signature" in result.output
    assert "model.safetensors" in result.output

    cli("keys", "generate", "mallory", "--unsafe-no-passphrase", "--project", root, "-q")
    cli("sign", model, "--key", root / "keys" / "mallory.key", "--project", root, "-q")
    result = cli("release", "build", model, "--version", "1", "--key", key, "--project", root,
                 code=2)  # fmt: skip
    assert "does not verify with the release key or a [[signers]] key" in result.output

    cli("sign", model, "--key", key, "--project", root, "-q")
    cli("release", "build", model, "--version", "1", "--key", key, "--project", root, "-q")
    result = cli("release", "build", model, "--version", "1", "--key", key, "--project", root,
                 code=2)  # fmt: skip
    assert "exists already" in result.output


def test_minimal_release_says_what_it_lacks_and_verifies(tmp_path: Path) -> None:
    root = init_project(tmp_path / "p")
    model = write_model(root / "m", readme=None)
    key = root / "keys" / "alice.key"
    cli("sign", model, "--key", key, "--project", root, "-q")
    out = tmp_path / "out"
    result = cli("release", "build", model, "--version", "0.1", "--key", key, "--out", out,
                 "--project", root, "--format", "json", "--no-record")  # fmt: skip
    report = json.loads(result.stdout)
    notes = "\n".join(report["notes"])
    assert "scan-report.json is not included" in notes
    assert "provenance.intoto.jsonl is not included" in notes
    assert "assessment.json is not included" in notes
    archive = out / "m-0.1.tar.gz"
    names = [m.name for m, _ in read_members(archive)]
    assert "m-0.1/scan-report.json" not in names
    code, verified = verify(archive, "--key", root / "keys" / "alice.pub", "--model", model)
    assert code == 0, verified
    assert checks(verified)["provenance"]["status"] == "skipped"
    assert "not included" in checks(verified)["provenance"]["detail"]


# -- verifying -------------------------------------------------------------------------------


def test_verify_passes_every_check(released: Released) -> None:
    code, report = verify(released.archive, "--key", released.pub, "--model",
                          released.root / "models" / "churn")  # fmt: skip
    assert code == 0, report
    assert report["verified"] is True
    statuses = {name: c["status"] for name, c in checks(report).items()}
    assert statuses == dict.fromkeys(
        [
            "archive",
            "release-signature",
            "release-contents",
            "manifest",
            "model-signature",
            "provenance",
            "model-digest",
            "weights",
        ],
        "passed",
    )
    detail = checks(report)["model-digest"]["detail"]
    for name in ("model.sig", "bom.cdx.json", "bom.spdx.json", "MODEL_CARD.md", "release.json"):
        assert name in detail
    jsonschema.validate(report, json.loads((SCHEMAS / "release-verify.schema.json").read_text()))


def test_verify_terminal_lists_each_check(released: Released) -> None:
    result = cli("release", "verify", released.archive, "--key", released.pub)
    for name in ("archive", "release-signature", "release-contents", "model-digest", "weights"):
        assert name in result.stdout
    assert "verified" in result.stdout


def _tampered(released: Released, tmp_path: Path, edit: Callable[[list], list]) -> Path:
    members = edit(read_members(released.archive))
    return write_members(tmp_path / f"{TOP}.tar.gz", members)


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


@pytest.mark.parametrize("member", MEMBERS)
def test_a_changed_byte_in_any_member_fails_naming_it(
    released: Released, tmp_path: Path, member: str
) -> None:
    def edit(members: list) -> list:
        return [(m, _flip(d) if m.name == f"{TOP}/{member}" else d) for m, d in members]

    code, report = verify(_tampered(released, tmp_path, edit), "--key", released.pub)
    assert code == 1
    assert report["verified"] is False
    failed = {n for n, c in checks(report).items() if c["status"] == "failed"}
    if member == "release.sig":
        assert "release-signature" in failed
        assert "release.sig" in json.dumps(report["checks"])
    else:
        assert "release-contents" in failed
        assert f"member {member} changed" in problems(report)


def test_an_added_member_fails(released: Released, tmp_path: Path) -> None:
    archive = _tampered(
        released, tmp_path, lambda ms: [*ms, regular(f"{TOP}/extra.txt", b"surprise\n")]
    )
    code, report = verify(archive, "--key", released.pub)
    assert code == 1
    assert "member extra.txt was added" in problems(report)


@pytest.mark.parametrize("member", ["bom.cdx.json", "provenance.intoto.jsonl", "scan-report.json"])
def test_a_removed_member_fails(released: Released, tmp_path: Path, member: str) -> None:
    archive = _tampered(
        released, tmp_path, lambda ms: [(m, d) for m, d in ms if m.name != f"{TOP}/{member}"]
    )
    code, report = verify(archive, "--key", released.pub)
    assert code == 1
    assert f"member {member} was removed" in problems(report)


def test_a_renamed_release_folder_fails(released: Released, tmp_path: Path) -> None:
    def edit(members: list) -> list:
        for info, _ in members:
            info.name = info.name.replace(TOP, "churn-net-9.9.9")
        return members

    code, report = verify(_tampered(released, tmp_path, edit), "--key", released.pub)
    assert code == 1
    assert "signs a release named 'churn-net-1.0.0'" in problems(report)


def test_wrong_key_fails(released: Released, tmp_path: Path) -> None:
    cli("keys", "generate", "bob", "--unsafe-no-passphrase", "--out", tmp_path, "--project",
        tmp_path, "-q")  # fmt: skip
    code, report = verify(released.archive, "--key", tmp_path / "bob.pub")
    assert code == 1
    failed = {n for n, c in checks(report).items() if c["status"] == "failed"}
    assert {"release-signature", "model-signature", "provenance"} <= failed
    assert "does not verify with key" in problems(report)


def test_changed_weights_fail_with_model(released: Released, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "churn"
    shutil.copytree(released.root / "models" / "churn", copy)
    weights = copy / "model.safetensors"
    weights.write_bytes(_flip(weights.read_bytes()))
    code, report = verify(released.archive, "--key", released.pub, "--model", copy)
    assert code == 1
    assert checks(report)["weights"]["status"] == "failed"
    assert "model.safetensors changed" in problems(report)
    (copy / "extra.bin").write_bytes(b"x")
    code, report = verify(released.archive, "--key", released.pub, "--model", copy)
    assert "extra.bin is not covered by model.sig" in problems(report)


def test_provenance_signed_by_a_project_signer_needs_project(tmp_path: Path) -> None:
    """Released with bob's key, while alice signed the model and the training run."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        root = full_project(tmp_path / "p", monkeypatch)
    cli("keys", "generate", "bob", "--unsafe-no-passphrase", "--project", root, "-q")
    cli("release", "build", root / "models" / "churn", "--version", "2", "--key",
        root / "keys" / "bob.key", "--project", root, "-q")  # fmt: skip
    archive = root / "releases" / "churn-net-2.tar.gz"
    code, report = verify(archive, "--key", root / "keys" / "bob.pub")
    assert code == 1
    assert checks(report)["release-signature"]["status"] == "passed"
    assert checks(report)["provenance"]["status"] == "failed"
    code, report = verify(archive, "--key", root / "keys" / "bob.pub", "--project", root)
    assert code == 0, report
    assert "signer 'alice'" in checks(report)["model-signature"]["detail"]


# -- hostile and unusable archives -----------------------------------------------------------


SENTINEL = f"ssdf-release-escape-{uuid.uuid4().hex}"


def _link(kind: bytes, name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, b""


def _device(name: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info, b""


HOSTILE: dict[str, tuple[Callable[[], list], str]] = {
    "symlink": (
        lambda: [
            _link(tarfile.SYMTYPE, f"{TOP}/model.sig", "/etc/passwd"),
            regular(f"{TOP}/release.sig", b"{}"),
        ],
        "symbolic link to '/etc/passwd'",
    ),
    "hardlink": (
        lambda: [_link(tarfile.LNKTYPE, f"{TOP}/x", "/etc/passwd")],
        "hard link to '/etc/passwd'",
    ),
    "dotdot": (
        lambda: [regular(f"{TOP}/../../{SENTINEL}", b"escaped"), regular(f"{TOP}/a", b"a")],
        "a '..' component",
    ),
    "absolute": (
        lambda: [regular(f"{tempfile.gettempdir()}/{SENTINEL}", b"escaped")],
        "an absolute path",
    ),
    "device": (lambda: [_device(f"{TOP}/null")], "a device"),
    "many-members": (
        lambda: [regular(f"{TOP}/f{i}", b"") for i in range(2000)],
        "more than 64 members",
    ),
    "two-folders": (
        lambda: [regular("a-1/x", b"x"), regular("b-1/y", b"y")],
        "exactly one folder",
    ),
    "top-level-file": (lambda: [regular("loose.txt", b"x")], "outside the release folder"),
    "duplicate": (
        lambda: [regular(f"{TOP}/a", b"1"), regular(f"{TOP}/a", b"2")],
        "appears twice",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused_without_writing_outside(
    tmp_path: Path, released: Released, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build, message = HOSTILE[case]
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    archive = write_members(work / "hostile.tar.gz", build())
    # The private extraction folder is made under tmp_path/tmp, so anything that escaped it
    # (or was left behind) shows up below tmp_path.
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    before = set(tmp_path.rglob("*"))
    result = cli("release", "verify", archive, "--key", released.pub, code=None)
    assert result.exit_code in (1, 2), result.output
    assert message in result.output
    assert set(tmp_path.rglob("*")) == before
    monkeypatch.undo()
    assert not (Path(tempfile.gettempdir()) / SENTINEL).exists()


def test_decompression_bomb_is_bounded(released: Released, tmp_path: Path) -> None:
    from ssdf_ai.integrity.keys import load_public_key
    from ssdf_ai.release.archive import ReleaseLimits, verify_release

    archive = write_members(tmp_path / "bomb.tar.gz", [regular(f"{TOP}/z", bytes(8 << 20))])
    assert archive.stat().st_size < 64 << 10
    report = verify_release(
        archive,
        load_public_key(released.pub),
        limits=ReleaseLimits(max_member_size=1 << 20, max_total_size=2 << 20),
    )
    assert not report.verified
    (check,) = report.checks
    assert check.name == "archive"
    assert "declares 8388608 bytes" in check.problems[0]


def test_oversized_pax_header_is_refused(released: Released, tmp_path: Path) -> None:
    info = tarfile.TarInfo(f"{TOP}/a")
    info.pax_headers = {"comment": "x" * (200 << 10)}
    archive = write_members(tmp_path / "pax.tar.gz", [(info, b"a")])
    code, report = verify(archive, "--key", released.pub)
    assert code == 1
    assert "metadata header declares" in problems(report)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a tar at all" * 100, "is not a tar archive"), (None, "no release archive")],
)
def test_unusable_input_exits_2(
    released: Released, tmp_path: Path, content: bytes | None, message: str
) -> None:
    archive = tmp_path / "x.tar.gz"
    if content is not None:
        archive.write_bytes(gzip.compress(content))
    result = cli("release", "verify", archive, "--key", released.pub, code=2)
    assert message in result.output


def test_unusable_key_exits_2(released: Released, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    result = cli("release", "verify", released.archive, "--key", bad, code=2)
    assert "not a PEM public key" in result.output


@pytest.mark.parametrize(
    ("sign_args", "single_file", "compared"),
    [
        pytest.param(["--method", "shards", "--shard-size", "64"], False, False, id="shards"),
        pytest.param([], True, True, id="single-file"),
    ],
)
def test_signature_settings_and_single_files_release_and_verify(
    tmp_path: Path, sign_args: list[str], single_file: bool, compared: bool
) -> None:
    root = init_project(tmp_path / "p")
    folder = write_model(root / "models" / "m", readme=None)
    model = folder / "model.safetensors" if single_file else folder
    key = root / "keys" / "alice.key"
    # --no-record: the release takes the signature file beside the model.
    cli("sign", model, "--key", key, *sign_args, "--no-record", "--project", root, "-q")
    result = cli("release", "build", model, "--version", "1", "--key", key, "--project", root,
                 "--format", "json")  # fmt: skip
    report = json.loads(result.stdout)
    members = {m["name"]: m["source"] for m in report["members"]}
    assert members["model.sig"].startswith("file: models/m/model")
    archive = Path(report["archive"])
    code, verified = verify(archive, "--key", root / "keys" / "alice.pub", "--model", model)
    assert code == 0, verified
    detail = checks(verified)["model-digest"]["detail"]
    assert ("bom.cdx.json, bom.spdx.json" in detail) is compared
    assert ("not compared" in detail) is not compared


@pytest.mark.parametrize("how", ["truncated", "corrupted"])
def test_damaged_archive_fails(released: Released, tmp_path: Path, how: str) -> None:
    data = bytearray(released.archive.read_bytes())
    if how == "truncated":
        del data[-2000:]
    else:
        for i in range(len(data) - 1500, len(data) - 1300):
            data[i] ^= 0x55
    archive = tmp_path / f"{TOP}.tar.gz"
    archive.write_bytes(bytes(data))
    code, report = verify(archive, "--key", released.pub)
    assert code == 1
    (check,) = report["checks"]
    assert check["name"] == "archive"
    assert "truncated or damaged" in check["problems"][0]
