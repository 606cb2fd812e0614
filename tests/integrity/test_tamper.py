"""Tampering with a signed model, through the ``ssdf`` command line: every change is detected.

A model folder holding real model files (a ``torch.save`` state dict, a safetensors file, a
config and a vocabulary) is signed, then changed in one way at a time: bytes, files, the
signature's statement, its signature, its key hint, its certificates. ``ssdf verify`` must exit
1 and name the file (with the signed and current hex digests) or the signature problem;
unreadable signatures exit 2. Re-signing, ``ssdf diff`` and ``ssdf hash --stream`` are covered
too. Every command gets ``--project`` under ``tmp_path``, so nothing is recorded in the
repository.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pki import KeyPair, certificate, write_key
from typer.testing import CliRunner

from ssdf_ai.cli import app

SHARD = 512  # small shards, so a changed byte names one shard among several


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    """Two unrelated P-256 signing keys, ``a`` and ``b``."""
    directory = tmp_path_factory.mktemp("keys")
    return {name: write_key(directory, name, ec.SECP256R1()) for name in ("a", "b")}


@dataclass(frozen=True)
class Chain:
    root: Path
    intermediate: Path
    leaf: Path
    leaf_key: Path
    leaf_cert: x509.Certificate


def _make_chain(directory: Path, tag: str) -> Chain:
    root_key = ec.generate_private_key(ec.SECP384R1())
    inter_key = ec.generate_private_key(ec.SECP256R1())
    leaf = write_key(directory, f"leaf-{tag}", ec.SECP256R1())
    root = certificate(f"Root {tag}", root_key, f"Root {tag}", root_key, ca=True)
    inter = certificate(f"Intermediate {tag}", inter_key, f"Root {tag}", root_key, ca=True)
    cert = certificate(f"Leaf {tag}", leaf.key, f"Intermediate {tag}", inter_key, ca=False)
    paths = []
    for name, c in (("root", root), ("intermediate", inter), ("leaf", cert)):
        path = directory / f"{name}-{tag}.pem"
        path.write_bytes(c.public_bytes(serialization.Encoding.PEM))
        paths.append(path)
    return Chain(paths[0], paths[1], paths[2], leaf.private, cert)


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Chain]:
    """Two independent root -> intermediate -> leaf chains, ``a`` and ``b``."""
    directory = tmp_path_factory.mktemp("pki")
    return {tag: _make_chain(directory, tag) for tag in ("a", "b")}


@pytest.fixture(scope="module")
def model_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model folder with real model files (built once, copied per test)."""
    import numpy as np
    import torch
    from safetensors.numpy import save_file

    root = tmp_path_factory.mktemp("template") / "model"
    (root / "tokenizer").mkdir(parents=True)
    torch.manual_seed(0)
    state = {"linear.weight": torch.randn(16, 8), "linear.bias": torch.zeros(16)}
    torch.save(state, root / "model.pt")
    save_file(
        {"embed": np.arange(600, dtype=np.float32).reshape(20, 30)},
        str(root / "model.safetensors"),
    )
    (root / "config.json").write_text(
        json.dumps({"architectures": ["Tiny"], "hidden_size": 8, "vocab_size": 20}, indent=2)
    )
    (root / "tokenizer" / "vocab.txt").write_text("".join(f"token{i}\n" for i in range(40)))
    return root


@pytest.fixture
def model(tmp_path: Path, model_template: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(model_template, target)
    return target


FILES = ["config.json", "model.pt", "model.safetensors", "tokenizer/vocab.txt"]


# -- helpers -------------------------------------------------------------------------------


def ssdf(*args: object, env: dict[str, str] | None = None) -> Result:
    """Run ``ssdf`` in-process; an unexpected exception fails the test (it is not exit 1)."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def sign(model: Path, key: Path, *extra: object, project: Path | None = None) -> dict[str, Any]:
    project = project or model.parent
    result = ssdf(
        "sign", model, "--key", key, "--project", project, "--no-record", "-f", "json", *extra
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def verify(
    model: Path, *trust: object, signature: Path | None = None
) -> tuple[int, dict[str, Any]]:
    args: list[object] = ["verify", model, "--project", model.parent, "--no-record", "-f", "json"]
    if signature is not None:
        args += ["-s", signature]
    result = ssdf(*args, *trust)
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["verified"] is (result.exit_code == 0)
    return result.exit_code, report


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def messages(report: dict[str, Any]) -> list[str]:
    return [f["message"] for f in report["findings"]]


def read_bundle(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_bytes())
    return value


def edit_statement(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change the signed statement and re-encode it, leaving the DSSE signature as it was."""
    bundle = read_bundle(path)
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    edit(statement)
    payload = json.dumps(statement, separators=(",", ":")).encode()
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    path.write_text(json.dumps(bundle))


def assert_verified(model: Path, *trust: object) -> None:
    code, report = verify(model, *trust)
    assert code == 0, report
    assert report["findings"] == []
    assert report["changes"] == []
    assert report["problems"] == []


# -- bytes and files -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["files", "shards"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("name", FILES)
def test_one_changed_byte_is_detected_and_named(
    model: Path, keys: dict[str, KeyPair], method: str, where: str, name: str
) -> None:
    sign(model, keys["a"].private, "--method", method, "--shard-size", SHARD)
    assert_verified(model, "--key", keys["a"].public)

    target = model / name
    before = target.read_bytes()
    offset = {"first": 0, "middle": len(before) // 2, "last": len(before) - 1}[where]
    after = bytearray(before)
    after[offset] ^= 0xFF
    target.write_bytes(bytes(after))

    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert report["problems"] == []
    if method == "files":
        start, end, resource = 0, len(before), name
    else:
        start = offset // SHARD * SHARD
        end = min(start + SHARD, len(before))
        resource = f"{name}:{start}:{end}"
    expected, actual = sha256(before[start:end]), sha256(bytes(after[start:end]))
    assert report["changes"] == [
        {"kind": "changed", "name": resource, "expected": expected, "actual": actual}
    ]
    assert messages(report) == [f"{resource} changed: signed {expected}, now {actual}"]
    assert report["findings"][0]["rule_id"] == "SSDF-SIGN-002"


def test_terminal_output_names_the_file_and_both_digests(
    model: Path, keys: dict[str, KeyPair]
) -> None:
    sign(model, keys["a"].private)
    before = (model / "config.json").read_bytes()
    (model / "config.json").write_bytes(before.replace(b"Tiny", b"Tinx"))
    result = ssdf(
        "verify", model, "--key", keys["a"].public, "--project", model.parent, "--no-record"
    )
    assert result.exit_code == 1
    assert "NOT verified" in result.stdout
    # The table folds long digests over several lines: join each column's pieces.
    columns = ["", "", "", ""]
    for line in result.stdout.splitlines():
        cells = line.split("\u2502")[1:-1]
        if len(cells) == 4:
            columns = [c + cell.strip() for c, cell in zip(columns, cells, strict=True)]
    assert columns == [
        "changed",
        "config.json",
        sha256(before),
        sha256((model / "config.json").read_bytes()),
    ]


@pytest.mark.parametrize("method", ["files", "shards"])
def test_added_file_is_detected(model: Path, keys: dict[str, KeyPair], method: str) -> None:
    sign(model, keys["a"].private, "--method", method, "--shard-size", SHARD)
    (model / "extra.bin").write_bytes(b"\x00" * 100)
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    name = "extra.bin" if method == "files" else "extra.bin:0:100"
    assert report["changes"] == [
        {"kind": "added", "name": name, "expected": None, "actual": sha256(b"\x00" * 100)}
    ]
    assert report["findings"][0]["rule_id"] == "SSDF-SIGN-003"
    assert name in messages(report)[0]


@pytest.mark.parametrize("method", ["files", "shards"])
def test_removed_file_is_detected(model: Path, keys: dict[str, KeyPair], method: str) -> None:
    sign(model, keys["a"].private, "--method", method, "--shard-size", SHARD)
    data = (model / "config.json").read_bytes()
    (model / "config.json").unlink()
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    name = "config.json" if method == "files" else f"config.json:0:{len(data)}"
    assert report["changes"] == [
        {"kind": "removed", "name": name, "expected": sha256(data), "actual": None}
    ]
    assert report["findings"][0]["rule_id"] == "SSDF-SIGN-004"
    assert messages(report) == [f"{name} is signed (digest {sha256(data)}) but missing"]


def test_renamed_file_is_a_removal_and_an_addition(model: Path, keys: dict[str, KeyPair]) -> None:
    sign(model, keys["a"].private)
    digest = sha256((model / "model.pt").read_bytes())
    (model / "model.pt").rename(model / "weights.pt")
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert report["changes"] == [
        {"kind": "removed", "name": "model.pt", "expected": digest, "actual": None},
        {"kind": "added", "name": "weights.pt", "expected": None, "actual": digest},
    ]


@pytest.mark.parametrize("method", ["files", "shards"])
def test_swapped_contents_are_detected(model: Path, keys: dict[str, KeyPair], method: str) -> None:
    sign(model, keys["a"].private, "--method", method, "--shard-size", 1 << 20)
    a, b = model / "config.json", model / "tokenizer" / "vocab.txt"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    changes = {c["name"]: c for c in report["changes"]}
    if method == "files":
        na, nb = "config.json", "tokenizer/vocab.txt"
        assert changes == {
            na: {"kind": "changed", "name": na, "expected": sha256(da), "actual": sha256(db)},
            nb: {"kind": "changed", "name": nb, "expected": sha256(db), "actual": sha256(da)},
        }
    else:  # the sizes differ, so every shard name differs: removed and added
        assert {(c["kind"], c["name"]) for c in report["changes"]} == {
            ("removed", f"config.json:0:{len(da)}"),
            ("added", f"config.json:0:{len(db)}"),
            ("removed", f"tokenizer/vocab.txt:0:{len(db)}"),
            ("added", f"tokenizer/vocab.txt:0:{len(da)}"),
        }


def test_empty_file_added_in_shards_mode_is_detected(model: Path, keys: dict[str, KeyPair]) -> None:
    # An empty file has no shards, so only the signed file list can tell it was added.
    sign(model, keys["a"].private, "--method", "shards", "--shard-size", SHARD)
    (model / "tokenizer" / "empty.txt").write_bytes(b"")
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert report["changes"] == [
        {"kind": "added", "name": "tokenizer/empty.txt", "expected": None, "actual": "(empty file)"}
    ]
    assert "tokenizer/empty.txt" in messages(report)[0]


def test_empty_file_removed_in_shards_mode_is_detected(
    model: Path, keys: dict[str, KeyPair]
) -> None:
    (model / "EMPTY").write_bytes(b"")
    sign(model, keys["a"].private, "--method", "shards", "--shard-size", SHARD)
    assert_verified(model, "--key", keys["a"].public)
    (model / "EMPTY").unlink()
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert report["changes"] == [
        {"kind": "removed", "name": "EMPTY", "expected": "(empty file)", "actual": None}
    ]


# -- the signature -------------------------------------------------------------------------


def test_statement_altered_without_re_signing(model: Path, keys: dict[str, KeyPair]) -> None:
    sign(model, keys["a"].private)
    forged = sha256(b"forged")

    def edit(statement: dict[str, Any]) -> None:
        for resource in statement["predicate"]["resources"]:
            if resource["name"] == "model.pt":
                resource["digest"] = forged

    edit_statement(model / "model.sig", edit)
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert any(f"does not verify with key {keys['a'].key_id}" in p for p in report["problems"]), (
        report["problems"]
    )
    assert report["method"] is None
    assert report["signer"] is None
    assert "SSDF-SIGN-001" in {f["rule_id"] for f in report["findings"]}


def test_statement_subject_altered_without_re_signing(
    model: Path, keys: dict[str, KeyPair]
) -> None:
    sign(model, keys["a"].private)

    def edit(statement: dict[str, Any]) -> None:
        statement["subject"][0]["digest"]["sha256"] = "0" * 64

    edit_statement(model / "model.sig", edit)
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert any("does not verify" in p for p in report["problems"])
    assert any("subject digest " + "0" * 64 + " does not match" in p for p in report["problems"]), (
        report["problems"]
    )


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_dsse_signature_bytes_altered(model: Path, keys: dict[str, KeyPair], position: str) -> None:
    sign(model, keys["a"].private)
    path = model / "model.sig"
    bundle = read_bundle(path)
    sig = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
    index = {"first": 0, "middle": len(sig) // 2, "last": len(sig) - 1}[position]
    sig[index] ^= 0x01
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    path.write_text(json.dumps(bundle))
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert report["problems"] == [
        f"the signature does not verify with key {keys['a'].key_id}: the statement or the "
        "signature was altered, or another key signed it"
    ]
    assert report["changes"] == []


def test_public_key_hint_replaced(model: Path, keys: dict[str, KeyPair]) -> None:
    sign(model, keys["a"].private)
    path = model / "model.sig"
    bundle = read_bundle(path)
    assert bundle["verificationMaterial"]["publicKey"]["hint"] == keys["a"].key_id
    bundle["verificationMaterial"]["publicKey"]["hint"] = keys["b"].key_id
    path.write_text(json.dumps(bundle))
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert report["problems"] == [
        f"the signature names key {keys['b'].key_id}, not the given key {keys['a'].key_id}"
    ]


def test_another_keys_valid_signature_is_refused(model: Path, keys: dict[str, KeyPair]) -> None:
    sign(model, keys["a"].private)
    # A signature of the very same files by another key, swapped in.
    sign(model, keys["b"].private, "--full")
    assert_verified(model, "--key", keys["b"].public)
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert (
        f"the signature names key {keys['b'].key_id}, not the given key {keys['a'].key_id}"
        in (report["problems"])
    )
    assert any(f"does not verify with key {keys['a'].key_id}" in p for p in report["problems"])


def test_swapped_dsse_signature_from_another_key_is_refused(
    model: Path, keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    # Keep a's bundle (and its hint), but carry b's signature bytes.
    sign(model, keys["a"].private)
    other = tmp_path / "other.sig"
    sign(model, keys["b"].private, "-s", other)
    bundle = read_bundle(model / "model.sig")
    bundle["dsseEnvelope"]["signatures"] = read_bundle(other)["dsseEnvelope"]["signatures"]
    (model / "model.sig").write_text(json.dumps(bundle))
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert any("does not verify with key" in p for p in report["problems"])


def test_key_signature_checked_with_certificate_chain_is_refused(
    model: Path, keys: dict[str, KeyPair], chains: dict[str, Chain]
) -> None:
    sign(model, keys["a"].private)
    code, report = verify(model, "--certificate-chain", chains["a"].root)
    assert code == 1
    assert report["problems"] == ["the signature carries no certificate chain; verify with --key"]


# -- certificates --------------------------------------------------------------------------


def _sign_with_chain(model: Path, chain: Chain) -> None:
    sign(model, chain.leaf_key, "--certificate", chain.leaf, "--chain", chain.intermediate)


def test_certificate_signature_verifies_with_its_root(
    model: Path, chains: dict[str, Chain]
) -> None:
    _sign_with_chain(model, chains["a"])
    code, report = verify(model, "--certificate-chain", chains["a"].root)
    assert code == 0, report
    assert report["method"] == "certificate"
    assert report["signer"] == "CN=Leaf a"


def test_chain_from_another_root_is_refused(model: Path, chains: dict[str, Chain]) -> None:
    _sign_with_chain(model, chains["b"])
    code, report = verify(model, "--certificate-chain", chains["a"].root)
    assert code == 1
    assert report["problems"] == [
        "the certificate CN=Intermediate b does not chain to a trusted root (issuer CN=Root b "
        "unknown)"
    ]


def test_chain_with_intermediate_of_another_root_is_refused(
    model: Path, chains: dict[str, Chain], tmp_path: Path
) -> None:
    # Root a's name on an intermediate issued by root b: the link's signature must fail.
    _sign_with_chain(model, chains["b"])
    code, report = verify(model, "--certificate-chain", chains["b"].root)
    assert code == 0, report
    forged_root = tmp_path / "forged-root.pem"
    root_b = x509.load_pem_x509_certificate(chains["b"].root.read_bytes())
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    impostor = certificate("Root b", impostor_key, "Root b", impostor_key, ca=True)
    assert impostor.subject == root_b.subject
    forged_root.write_bytes(impostor.public_bytes(serialization.Encoding.PEM))
    code, report = verify(model, "--certificate-chain", forged_root)
    assert code == 1
    assert report["problems"] == [
        "the certificate CN=Intermediate b is not signed by CN=Root b: its signature does not "
        "verify with the issuer key"
    ]


def _tamper_leaf(model: Path, change: Callable[[bytearray], None]) -> None:
    path = model / "model.sig"
    bundle = read_bundle(path)
    certs = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
    der = bytearray(base64.b64decode(certs[0]["rawBytes"]))
    change(der)
    certs[0]["rawBytes"] = base64.b64encode(bytes(der)).decode()
    path.write_text(json.dumps(bundle))


def test_leaf_certificate_byte_tampered_in_subject(model: Path, chains: dict[str, Chain]) -> None:
    _sign_with_chain(model, chains["a"])

    def change(der: bytearray) -> None:
        at = der.find(b"Leaf a")
        assert at > 0
        der[at : at + 6] = b"Leaf z"

    _tamper_leaf(model, change)
    code, report = verify(model, "--certificate-chain", chains["a"].root)
    assert code == 1
    assert report["problems"] == [
        "the certificate CN=Leaf z is not signed by CN=Intermediate a: its signature does not "
        "verify with the issuer key"
    ]


def test_leaf_certificate_signature_byte_tampered(model: Path, chains: dict[str, Chain]) -> None:
    _sign_with_chain(model, chains["a"])

    def change(der: bytearray) -> None:
        der[-1] ^= 0x01  # the last byte of the issuer's signature value

    _tamper_leaf(model, change)
    code, report = verify(model, "--certificate-chain", chains["a"].root)
    assert code == 1
    assert any(
        p.startswith("the certificate CN=Leaf a is not signed by CN=Intermediate a")
        for p in report["problems"]
    ), report["problems"]


def test_leaf_certificate_replaced_by_garbage(model: Path, chains: dict[str, Chain]) -> None:
    _sign_with_chain(model, chains["a"])

    def change(der: bytearray) -> None:
        der[0:4] = b"\xff\xff\xff\xff"

    _tamper_leaf(model, change)
    code, report = verify(model, "--certificate-chain", chains["a"].root)
    assert code == 1
    assert report["problems"] == ["a certificate in the signature is not valid DER"]


def test_certificate_signature_checked_with_a_key_is_refused(
    model: Path, chains: dict[str, Chain], keys: dict[str, KeyPair]
) -> None:
    _sign_with_chain(model, chains["a"])
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert (
        "the signature was made with a certificate, not a bare key; verify with "
        "--certificate-chain" in report["problems"]
    )


# -- unreadable signatures (exit 2) --------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"hello": "world"}', "is not a Sigstore bundle (mediaType None)"),
        (b"[1, 2, 3]", "is not a Sigstore bundle (not a JSON object)"),
        (b"not json at all", "is not valid JSON"),
        (None, "is not valid JSON"),  # the real signature, truncated
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}',
            "holds no DSSE envelope",
        ),
    ],
    ids=["other-json", "json-array", "text", "truncated", "no-envelope"],
)
def test_unreadable_signature_exits_2(
    model: Path, keys: dict[str, KeyPair], content: bytes | None, message: str
) -> None:
    sign(model, keys["a"].private)
    path = model / "model.sig"
    path.write_bytes(path.read_bytes()[:200] if content is None else content)
    result = ssdf(
        "verify", model, "--key", keys["a"].public, "--project", model.parent, "--no-record"
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "model.sig" in result.stderr
    assert result.stdout == ""


def test_missing_signature_exits_2(model: Path, keys: dict[str, KeyPair]) -> None:
    result = ssdf(
        "verify", model, "--key", keys["a"].public, "--project", model.parent, "--no-record"
    )
    assert result.exit_code == 2
    assert "no signature at" in result.stderr


# -- symbolic links ------------------------------------------------------------------------


def test_symlink_outside_the_model_is_refused(
    model: Path, keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("not part of the model")
    (model / "linked.txt").symlink_to(secret)
    for extra in ([], ["--allow-symlinks"]):
        result = ssdf(
            "sign", model, "--key", keys["a"].private, "--project", tmp_path, "--no-record", *extra
        )
        assert result.exit_code == 2, result.output
        assert "linked.txt" in result.stderr
        assert "symbolic link" in result.stderr
    assert "outside" in result.stderr
    assert not (model / "model.sig").exists()


def test_symlink_inside_needs_allow_symlinks(model: Path, keys: dict[str, KeyPair]) -> None:
    (model / "weights.pt").symlink_to("model.pt")
    result = ssdf(
        "sign", model, "--key", keys["a"].private, "--project", model.parent, "--no-record"
    )
    assert result.exit_code == 2
    assert "is a symbolic link" in result.stderr
    assert "--allow-symlinks" in result.stderr

    report = sign(model, keys["a"].private, "--allow-symlinks")
    assert report["files"] == len(FILES) + 1
    assert report["serialization"]["allow_symlinks"] is True
    assert_verified(model, "--key", keys["a"].public)
    # The link is followed: its content is signed under its own name.
    (model / "model.pt").write_bytes(b"changed")
    code, report = verify(model, "--key", keys["a"].public)
    assert code == 1
    assert {c["name"] for c in report["changes"]} == {"model.pt", "weights.pt"}


# -- incremental re-signing ----------------------------------------------------------------


def _bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


@pytest.mark.parametrize("method", ["files", "shards"])
def test_re_signing_reuses_unchanged_files(
    model: Path, keys: dict[str, KeyPair], method: str
) -> None:
    first = sign(model, keys["a"].private, "--method", method, "--shard-size", SHARD)
    n = len(FILES)
    assert first["files"] == n
    assert first["reused_files"] == 0

    # Nothing changed: everything reused, nothing hashed, the same root.
    again = sign(model, keys["a"].private, "--method", method, "--shard-size", SHARD)
    assert again["reused_files"] == n
    assert again["bytes_hashed"] == 0
    assert again["root"] == first["root"]
    assert again["reused_from"] == str(model / "model.sig")

    # One file changed (same size, a later mtime): only it is hashed.
    target = model / "config.json"
    target.write_bytes(target.read_bytes().replace(b"Tiny", b"Tinx"))
    _bump_mtime(target)
    changed = sign(model, keys["a"].private, "--method", method, "--shard-size", SHARD)
    assert changed["reused_files"] == n - 1
    assert changed["bytes_hashed"] == target.stat().st_size
    assert changed["root"] != first["root"]
    assert_verified(model, "--key", keys["a"].public)

    # --full re-hashes everything and gives the same root.
    full = sign(model, keys["a"].private, "--method", method, "--shard-size", SHARD, "--full")
    assert full["reused_files"] == 0
    assert full["bytes_hashed"] == sum((model / f).stat().st_size for f in FILES)
    assert full["root"] == changed["root"]


def test_touching_mtime_re_hashes_only_that_file(model: Path, keys: dict[str, KeyPair]) -> None:
    first = sign(model, keys["a"].private)
    target = model / "model.safetensors"
    _bump_mtime(target)
    again = sign(model, keys["a"].private)
    assert again["reused_files"] == len(FILES) - 1
    assert again["bytes_hashed"] == target.stat().st_size
    assert again["root"] == first["root"]
    assert again["names"] == first["names"]
    assert_verified(model, "--key", keys["a"].public)


def test_re_signing_with_other_settings_reuses_nothing(
    model: Path, keys: dict[str, KeyPair]
) -> None:
    sign(model, keys["a"].private)
    other = sign(model, keys["a"].private, "--hash", "blake2b")
    assert other["reused_files"] == 0
    assert other["serialization"]["hash_type"] == "blake2b"
    assert_verified(model, "--key", keys["a"].public)


def test_re_signing_with_another_key_reuses_nothing(model: Path, keys: dict[str, KeyPair]) -> None:
    # The old signature does not verify with the new key, so its digests are not trusted.
    sign(model, keys["a"].private)
    result = ssdf(
        "sign",
        model,
        "--key",
        keys["b"].private,
        "--project",
        model.parent,
        "--no-record",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reused_files"] == 0
    assert "does not verify with this key" in result.stderr


# -- ssdf diff -----------------------------------------------------------------------------


def test_diff_lists_exactly_the_change_and_the_chain(
    model: Path, keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    v1, v2, v3 = tmp_path / "v1.sig", tmp_path / "v2.sig", tmp_path / "v3.sig"
    sign(model, keys["a"].private, "-s", v1)
    before = (model / "config.json").read_bytes()
    after = before.replace(b'"hidden_size": 8', b'"hidden_size": 16')
    (model / "config.json").write_bytes(after)
    second = sign(model, keys["a"].private, "-s", v2, "--parent", v1)
    assert second["parent"] == sha256(v1.read_bytes())
    assert second["reused_files"] == len(FILES) - 1

    result = ssdf("diff", v1, v2, "--key", keys["a"].public, "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["chained"] is True
    assert report["problems"] == []
    assert report["changes"] == [
        {
            "kind": "changed",
            "name": "config.json",
            "expected": sha256(before),
            "actual": sha256(after),
        }
    ]
    assert report["old_signer"] == report["new_signer"] == keys["a"].key_id

    # Signed without --parent: the same change, but no chain.
    sign(model, keys["a"].private, "-s", v3, "--full")
    report = json.loads(ssdf("diff", v1, v3, "--key", keys["a"].public, "-f", "json").stdout)
    assert report["chained"] is False
    assert [c["name"] for c in report["changes"]] == ["config.json"]

    # A file added and one removed between versions.
    (model / "tokenizer" / "merges.txt").write_text("a b\n")
    (model / "model.pt").unlink()
    v4 = tmp_path / "v4.sig"
    sign(model, keys["a"].private, "-s", v4, "--parent", v2)
    report = json.loads(ssdf("diff", v2, v4, "--key", keys["a"].public, "-f", "json").stdout)
    assert report["chained"] is True
    assert [(c["kind"], c["name"]) for c in report["changes"]] == [
        ("removed", "model.pt"),
        ("added", "tokenizer/merges.txt"),
    ]


def test_diff_with_the_wrong_key_exits_1(
    model: Path, keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    v1, v2 = tmp_path / "v1.sig", tmp_path / "v2.sig"
    sign(model, keys["a"].private, "-s", v1)
    sign(model, keys["a"].private, "-s", v2, "--parent", v1)
    result = ssdf("diff", v1, v2, "--key", keys["b"].public, "-f", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert len(problems) == 4  # for each signature: wrong hint, signature does not verify
    assert all("does not verify" in p or "names key" in p for p in problems)
    unverified = ssdf("diff", v1, v2, "--unverified", "-f", "json")
    assert unverified.exit_code == 0
    assert json.loads(unverified.stdout)["chained"] is True


def test_parent_signed_by_another_key_is_refused(
    model: Path, keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    v1 = tmp_path / "v1.sig"
    sign(model, keys["b"].private, "-s", v1)
    result = ssdf(
        "sign",
        model,
        "--key",
        keys["a"].private,
        "--parent",
        v1,
        "--project",
        tmp_path,
        "--no-record",
    )
    assert result.exit_code == 2
    assert "does not verify with this signer" in result.stderr


# -- ssdf hash --stream --------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [[], ["--method", "shards", "--shard-size", str(SHARD)], ["--hash", "blake2b"]],
    ids=["files", "shards", "blake2b"],
)
def test_hash_stream_ends_with_the_same_root(model: Path, settings: list[str]) -> None:
    streamed = ssdf("hash", model, "--stream", *settings)
    assert streamed.exit_code == 0, streamed.output
    lines = [json.loads(line) for line in streamed.stdout.splitlines()]
    *resources, summary = lines
    assert summary["summary"] is True
    assert all("summary" not in r for r in resources)

    whole = ssdf("hash", model, "-f", "json", *settings)
    assert whole.exit_code == 0, whole.output
    report = json.loads(whole.stdout)
    assert summary["root"] == report["root"]
    assert summary["names"] == report["names"]
    assert summary["resources"] == len(resources) == len(report["resources"])
    assert resources == report["resources"]
    assert summary["files"] == report["files"] == len(FILES)


def test_hash_root_matches_the_signed_root(model: Path, keys: dict[str, KeyPair]) -> None:
    signed = sign(model, keys["a"].private, "-s", model.parent / "outside.sig")
    report = json.loads(ssdf("hash", model, "-f", "json").stdout)
    assert report["root"] == signed["root"]
    assert report["names"] == signed["names"]


# -- recording -----------------------------------------------------------------------------


def test_signing_records_into_the_given_project_only(
    model: Path, keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    result = ssdf("sign", model, "--key", keys["a"].private, "--project", project)
    assert result.exit_code == 0, result.output
    assert "recorded as run:" in result.stderr
    assert (project / ".ssdf").is_dir()
    result = ssdf("verify", model, "--key", keys["a"].public, "--project", project)
    assert result.exit_code == 0, result.output
    assert "recorded as run:" in result.stderr


# -- Sigstore without the network or without the extra -------------------------------------


def _run_cli(
    args: list[str], tmp_path: Path, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        import sys
        {prelude}
        sys.argv = ["ssdf", *{args!r}]
        from ssdf_ai.cli import main
        main()
        """
    )
    env = dict(os.environ)
    # Keep sigstore's trust-root cache out of the home folder.
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=20,
        check=False,
    )


def test_sigstore_signing_offline_exits_2(model: Path, tmp_path: Path) -> None:
    pytest.importorskip("sigstore", reason="the 'sigstore' extra is not installed")
    args = ["sign", str(model), "--sigstore", "--project", str(tmp_path), "--no-record"]
    try:
        done = _run_cli(args, tmp_path)
    except subprocess.TimeoutExpired:
        pytest.skip(
            "Sigstore signing did not fail within 20 s (the network is reachable or times out "
            "slowly, or an OIDC flow waits for a browser); the offline refusal is not testable "
            "here"
        )
    assert done.returncode == 2, done.stderr
    stderr = done.stderr.lower()
    assert "sigstore" in stderr
    assert "network" in stderr
    assert "traceback" not in stderr
    assert not (model / "model.sig").exists()


@pytest.mark.parametrize("command", ["sign", "verify"])
def test_sigstore_missing_extra_exits_2(
    model: Path, tmp_path: Path, keys: dict[str, KeyPair], command: str
) -> None:
    if command == "sign":
        args = ["sign", str(model), "--sigstore", "--project", str(tmp_path), "--no-record"]
    else:
        sign(model, keys["a"].private)  # any bundle: the import fails before it is read
        args = [
            "verify",
            str(model),
            "--identity",
            "someone@example.com",
            "--issuer",
            "https://accounts.example.com",
            "--project",
            str(tmp_path),
            "--no-record",
        ]
    done = _run_cli(args, tmp_path, prelude="sys.modules['sigstore'] = None")
    assert done.returncode == 2, done.stderr
    assert "'sigstore'" in done.stderr
    assert "pip install 'ssdf-ai[sigstore]'" in done.stderr
    assert "Traceback" not in done.stderr
