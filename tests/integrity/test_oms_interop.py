"""Interoperability with the OpenSSF model signing anchor, ``model-signing`` 1.1.1, both ways.

For the ``files`` and ``shards`` methods, SHA-256, BLAKE2b and BLAKE3, the key method (P-256 and
P-384) and the certificate method (root -> intermediate -> leaf):

* a signature we write verifies with model-signing's API;
* a signature model-signing writes verifies with ours, float ``shard_size`` included;
* ``ssdf hash`` gives the root digest model-signing puts in its statement's subject.

Then what we do beyond the anchor: file names with colons under the shards method (the anchor
cannot verify them, which is asserted to document the bug), and the ``ssdf-names-sha256``
name binding that the OMS root digest lacks.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pki import KeyPair, certificate, write_key
from typer.testing import CliRunner

from ssdf_ai.cli import app
from ssdf_ai.integrity.manifest import Serialization, names_digest, root_digest
from ssdf_ai.integrity.oms import NAMES_KEY, Signer, Trust, compare, sign_model, verify_bundle

ms_hashing = pytest.importorskip("model_signing.hashing")
ms_signing = pytest.importorskip("model_signing.signing")
ms_verifying = pytest.importorskip("model_signing.verifying")

SHARD = 1000

# (method, our hash name, model-signing's hash name)
SETTINGS = [
    ("files", "sha256", "sha256"),
    ("files", "blake2b", "blake2"),
    ("files", "blake3", "blake3"),
    ("shards", "sha256", "sha256"),
    ("shards", "blake2b", "blake2"),
]
SETTING_IDS = [f"{m}-{h}" for m, h, _ in SETTINGS]
CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    directory = tmp_path_factory.mktemp("keys")
    return {name: write_key(directory, name, curve) for name, curve in CURVES.items()}


@dataclass(frozen=True)
class Chain:
    leaf_key: KeyPair
    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate
    leaf_pem: Path
    intermediate_pem: Path
    root_pem: Path


@pytest.fixture(scope="module", params=list(CURVES), ids=lambda c: f"leaf-{c}")
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """A P-384 root, a P-256 intermediate and a leaf for code signing (P-256 or P-384)."""
    directory = tmp_path_factory.mktemp("pki")
    root_key = ec.generate_private_key(ec.SECP384R1())
    inter_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = write_key(directory, "leaf", CURVES[request.param])
    root = certificate("Interop Root CA", root_key, "Interop Root CA", root_key, ca=True)
    inter = certificate("Interop Intermediate", inter_key, "Interop Root CA", root_key, ca=True)
    leaf = certificate("Interop Signer", leaf_key.key, "Interop Intermediate", inter_key, ca=False)
    pems = []
    for name, cert in (("leaf", leaf), ("intermediate", inter), ("root", root)):
        path = directory / f"{name}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pems.append(path)
    return Chain(leaf_key, leaf, inter, root, *pems)


@pytest.fixture(scope="module")
def model_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model folder of real model files, several shards long."""
    import numpy as np
    import torch
    from safetensors.numpy import save_file

    root = tmp_path_factory.mktemp("template") / "tiny-model"
    (root / "tokenizer").mkdir(parents=True)
    torch.manual_seed(0)
    torch.save({"fc.weight": torch.randn(24, 8), "fc.bias": torch.zeros(24)}, root / "model.pt")
    save_file({"embed": np.arange(900, dtype=np.float32)}, str(root / "model.safetensors"))
    (root / "config.json").write_text(json.dumps({"architectures": ["Tiny"], "hidden_size": 8}))
    (root / "tokenizer" / "vocab.txt").write_text("".join(f"tok{i}\n" for i in range(50)))
    (root / "tokenizer.json").write_text("{}")  # sorts after the tokenizer/ folder
    return root


@pytest.fixture
def model(tmp_path: Path, model_template: Path) -> Path:
    target = tmp_path / model_template.name
    shutil.copytree(model_template, target)
    return target


# -- helpers -------------------------------------------------------------------------------


def ms_hash_config(method: str, ms_hash: str, *ignored: str) -> Any:
    config = ms_hashing.Config()
    if method == "files":
        config = config.use_file_serialization(hashing_algorithm=ms_hash)
    else:
        config = config.use_shard_serialization(hashing_algorithm=ms_hash, shard_size=SHARD)
    if ignored:
        config = config.set_ignored_paths(paths=list(ignored))
    return config


def statement_of(signature: Path) -> dict[str, Any]:
    bundle = json.loads(signature.read_bytes())
    value: dict[str, Any] = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    return value


def assert_ours_verifies(signature: Path, model: Path, trust: Trust) -> None:
    signed, who, problems = verify_bundle(signature, trust)
    assert problems == []
    assert who is not None
    changes, walked = compare(signed, model, signature=signature)
    assert changes == []
    assert walked.files == len(signed.files or []) or signed.files is None


def ssdf_hash(model: Path, method: str, hash_type: str) -> dict[str, Any]:
    args = ["hash", str(model), "--method", method, "--hash", hash_type, "-f", "json"]
    if method == "shards":
        args += ["--shard-size", str(SHARD)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def resign(signature: Path, key: ec.EllipticCurvePrivateKey, edit: Callable[[Any], None]) -> None:
    """Edit the statement and sign it again, correctly, over the DSSE PAE."""
    bundle = json.loads(signature.read_bytes())
    statement = statement_of(signature)
    edit(statement)
    payload = json.dumps(statement, separators=(",", ":")).encode()
    payload_type = bundle["dsseEnvelope"]["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)
    digest = hashes.SHA384() if key.curve.key_size == 384 else hashes.SHA256()
    sig = key.sign(pae, ec.ECDSA(digest))
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    bundle["dsseEnvelope"]["signatures"] = [{"sig": base64.b64encode(sig).decode(), "keyid": ""}]
    signature.write_text(json.dumps(bundle))


# -- (a) we sign, model-signing verifies ---------------------------------------------------


@pytest.mark.parametrize(("method", "ours", "theirs"), SETTINGS, ids=SETTING_IDS)
@pytest.mark.parametrize("curve", list(CURVES))
def test_our_key_signature_verifies_with_model_signing(
    model: Path, keys: dict[str, KeyPair], curve: str, method: str, ours: str, theirs: str
) -> None:
    signature = model / "model.sig"  # inside: we list it in ignore_paths, as the anchor's CLI
    settings = Serialization(method=method, hash_type=ours, shard_size=SHARD)
    sign_model(model, signature, Signer(keys[curve].key), settings)
    assert "model.sig" in statement_of(signature)["predicate"]["serialization"]["ignore_paths"]

    ms_verifying.Config().use_elliptic_key_verifier(
        public_key=keys[curve].public
    ).set_hashing_config(ms_hash_config(method, theirs)).verify(model, signature)
    if ours != "blake2b":  # the anchor cannot guess its own "blake2b" name back (see below)
        ms_verifying.Config().use_elliptic_key_verifier(public_key=keys[curve].public).verify(
            model, signature
        )

    # And the anchor sees a change we sign over.
    (model / "config.json").write_text('{"architectures": ["Other"]}')
    with pytest.raises(ValueError, match="config.json"):
        ms_verifying.Config().use_elliptic_key_verifier(
            public_key=keys[curve].public
        ).set_hashing_config(ms_hash_config(method, theirs)).verify(model, signature)


@pytest.mark.parametrize(("method", "ours", "theirs"), SETTINGS, ids=SETTING_IDS)
def test_our_certificate_signature_verifies_with_model_signing(
    model: Path, chain: Chain, method: str, ours: str, theirs: str, tmp_path: Path
) -> None:
    signature = tmp_path / "model.sig"
    settings = Serialization(method=method, hash_type=ours, shard_size=SHARD)
    sign_model(
        model, signature, Signer(chain.leaf_key.key, chain.leaf, (chain.intermediate,)), settings
    )
    ms_verifying.Config().use_certificate_verifier(
        certificate_chain=[chain.root_pem]
    ).set_hashing_config(ms_hash_config(method, theirs)).verify(model, signature)
    # Ours too, with the root alone.
    assert_ours_verifies(signature, model, Trust(roots=(chain.root,)))


def test_our_certificate_signature_from_another_root_fails_with_model_signing(
    model: Path, chain: Chain, tmp_path: Path
) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = certificate("Other Root", other_key, "Other Root", other_key, ca=True)
    other_pem = tmp_path / "other.pem"
    other_pem.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    signature = tmp_path / "model.sig"
    sign_model(
        model,
        signature,
        Signer(chain.leaf_key.key, chain.leaf, (chain.intermediate,)),
        Serialization(),
    )
    with pytest.raises(Exception, match="unable to get"):  # OpenSSL's chain error
        ms_verifying.Config().use_certificate_verifier(certificate_chain=[other_pem]).verify(
            model, signature
        )
    _, who, problems = verify_bundle(signature, Trust(roots=(other,)))
    assert who is None
    assert any("does not chain to a trusted root" in p for p in problems)


# -- (b) model-signing signs, we verify ----------------------------------------------------


@pytest.mark.parametrize(("method", "ours", "theirs"), SETTINGS, ids=SETTING_IDS)
@pytest.mark.parametrize("curve", list(CURVES))
def test_model_signing_key_signature_verifies_with_ours(
    model: Path, keys: dict[str, KeyPair], curve: str, method: str, ours: str, theirs: str
) -> None:
    signature = model / "model.sig"
    ms_signing.Config().use_elliptic_key_signer(private_key=keys[curve].private).set_hashing_config(
        ms_hash_config(method, theirs, "model.sig")
    ).sign(model, signature)
    statement = statement_of(signature)
    written = statement["predicate"]["serialization"]
    assert written["hash_type"] == ours
    if method == "shards":
        # The anchor's float shard size, which its own guessing verifier cannot use.
        assert written["shard_size"] == float(SHARD)
        assert isinstance(written["shard_size"], float)
    assert NAMES_KEY not in statement["subject"][0]["digest"]

    trust = Trust(public_key=keys[curve].key.public_key())
    signed, who, problems = verify_bundle(signature, trust)
    assert problems == []
    assert who is not None
    assert who.method == "key"
    assert signed.names is None  # the anchor writes no name binding
    assert signed.files is None  # nor our file list
    assert signed.serialization.shard_size == SHARD or method == "files"
    changes, _ = compare(signed, model, signature=signature)
    assert changes == []

    # Through the command line as well, and a change is named.
    cli = [
        "verify",
        str(model),
        "--key",
        str(keys[curve].public),
        "--project",
        str(model.parent),
        "--no-record",
        "-f",
        "json",
    ]
    result = CliRunner().invoke(app, cli)
    assert result.exit_code == 0, result.output
    (model / "model.safetensors").write_bytes(b"\0" + (model / "model.safetensors").read_bytes())
    result = CliRunner().invoke(app, cli)
    assert result.exit_code == 1, result.output
    names = {c["name"].split(":")[0] for c in json.loads(result.stdout)["changes"]}
    assert names == {"model.safetensors"}


@pytest.mark.parametrize(("method", "ours", "theirs"), SETTINGS, ids=SETTING_IDS)
def test_model_signing_certificate_signature_verifies_with_ours(
    model: Path, chain: Chain, method: str, ours: str, theirs: str, tmp_path: Path
) -> None:
    signature = tmp_path / "model.sig"
    ms_signing.Config().use_certificate_signer(
        private_key=chain.leaf_key.private,
        signing_certificate=chain.leaf_pem,
        certificate_chain=[chain.intermediate_pem],
    ).set_hashing_config(ms_hash_config(method, theirs)).sign(model, signature)
    signed, who, problems = verify_bundle(signature, Trust(roots=(chain.root,)))
    assert problems == []
    assert who is not None
    assert who.method == "certificate"
    assert who.identity == "CN=Interop Signer"
    changes, _ = compare(signed, model, signature=signature)
    assert changes == []


def test_model_signing_cannot_guess_its_own_float_shard_size(
    model: Path, keys: dict[str, KeyPair]
) -> None:
    """Documents the anchor's bug: its verifier fails on the ``shard_size`` it wrote."""
    signature = model / "model.sig"
    ms_signing.Config().use_elliptic_key_signer(
        private_key=keys["p256"].private
    ).set_hashing_config(ms_hash_config("shards", "sha256", "model.sig")).sign(model, signature)
    with pytest.raises(TypeError, match="float"):
        ms_verifying.Config().use_elliptic_key_verifier(public_key=keys["p256"].public).verify(
            model, signature
        )
    assert_ours_verifies(signature, model, Trust(public_key=keys["p256"].key.public_key()))


def test_model_signing_cannot_guess_its_own_blake2b_name(
    model: Path, keys: dict[str, KeyPair]
) -> None:
    """Documents another anchor bug: it writes ``blake2b`` but only accepts ``blake2``."""
    signature = model / "model.sig"
    ms_signing.Config().use_elliptic_key_signer(
        private_key=keys["p256"].private
    ).set_hashing_config(ms_hash_config("files", "blake2", "model.sig")).sign(model, signature)
    assert statement_of(signature)["predicate"]["serialization"]["hash_type"] == "blake2b"
    with pytest.raises(ValueError, match="Unsupported hashing method blake2b"):
        ms_verifying.Config().use_elliptic_key_verifier(public_key=keys["p256"].public).verify(
            model, signature
        )
    assert_ours_verifies(signature, model, Trust(public_key=keys["p256"].key.public_key()))


# -- (c) the same root digest --------------------------------------------------------------


@pytest.mark.parametrize(("method", "ours", "theirs"), SETTINGS, ids=SETTING_IDS)
def test_hash_root_equals_model_signing_subject_digest(
    model: Path, keys: dict[str, KeyPair], method: str, ours: str, theirs: str, tmp_path: Path
) -> None:
    signature = tmp_path / "model.sig"
    ms_signing.Config().use_elliptic_key_signer(
        private_key=keys["p256"].private
    ).set_hashing_config(ms_hash_config(method, theirs)).sign(model, signature)
    statement = statement_of(signature)
    report = ssdf_hash(model, method, ours)
    assert report["root"] == statement["subject"][0]["digest"]["sha256"]
    assert report["model_name"] == statement["subject"][0]["name"] == model.name
    # The same resources in the same order, name for name and digest for digest.
    theirs_resources = [
        (r["name"], r["algorithm"], r["digest"]) for r in statement["predicate"]["resources"]
    ]
    ours_resources = [(r["name"], r["algorithm"], r["digest"]) for r in report["resources"]]
    assert ours_resources == theirs_resources

    # And what we sign with the same settings carries the same root.
    ours_sig = tmp_path / "ours.sig"
    result = sign_model(
        model, ours_sig, Signer(keys["p256"].key), Serialization(method, ours, SHARD)
    )
    assert result.root == report["root"]
    assert result.names == report["names"]


def test_shard_names_sort_by_path_components(model: Path) -> None:
    # "tokenizer/vocab.txt" comes before "tokenizer.json": by components, not by string.
    names = [r["name"] for r in ssdf_hash(model, "files", "sha256")["resources"]]
    assert names.index("tokenizer/vocab.txt") < names.index("tokenizer.json")


# -- (d) colons in file names --------------------------------------------------------------


def test_colon_file_names_under_shards(keys: dict[str, KeyPair], tmp_path: Path) -> None:
    model = tmp_path / "colons"
    model.mkdir()
    (model / "ckpt:step:1000.bin").write_bytes(bytes(range(256)) * 10)  # 2560 bytes: 3 shards
    (model / "a:b").write_text("short")
    (model / "plain.txt").write_text("no colon here")
    settings = Serialization(method="shards", shard_size=SHARD)
    signature = tmp_path / "ours.sig"
    sign_model(model, signature, Signer(keys["p256"].key), settings)
    names = [r["name"] for r in statement_of(signature)["predicate"]["resources"]]
    assert names == [
        "a:b:0:5",
        "ckpt:step:1000.bin:0:1000",
        "ckpt:step:1000.bin:1000:2000",
        "ckpt:step:1000.bin:2000:2560",
        "plain.txt:0:13",
    ]
    trust = Trust(public_key=keys["p256"].key.public_key())
    assert_ours_verifies(signature, model, trust)

    # A change in the colon file is named by its shard.
    data = bytearray((model / "ckpt:step:1000.bin").read_bytes())
    data[1500] ^= 1
    (model / "ckpt:step:1000.bin").write_bytes(bytes(data))
    signed, _, _ = verify_bundle(signature, trust)
    changes, _ = compare(signed, model, signature=signature)
    assert [(c.kind, c.name) for c in changes] == [("changed", "ckpt:step:1000.bin:1000:2000")]
    data[1500] ^= 1
    (model / "ckpt:step:1000.bin").write_bytes(bytes(data))

    # The anchor's bug: it splits shard names on every colon, so it can verify neither ours
    # nor its own signature of this folder.
    config = ms_hash_config("shards", "sha256")
    with pytest.raises(ValueError, match="expected 3 components"):
        ms_verifying.Config().use_elliptic_key_verifier(
            public_key=keys["p256"].public
        ).set_hashing_config(config).verify(model, signature)
    theirs = tmp_path / "theirs.sig"
    ms_signing.Config().use_elliptic_key_signer(
        private_key=keys["p256"].private
    ).set_hashing_config(ms_hash_config("shards", "sha256")).sign(model, theirs)
    with pytest.raises(ValueError, match="expected 3 components"):
        ms_verifying.Config().use_elliptic_key_verifier(
            public_key=keys["p256"].public
        ).set_hashing_config(ms_hash_config("shards", "sha256")).verify(model, theirs)
    # ... which we verify, and whose root equals ours.
    assert_ours_verifies(theirs, model, trust)
    assert (
        statement_of(theirs)["subject"][0]["digest"]["sha256"]
        == statement_of(signature)["subject"][0]["digest"]["sha256"]
    )


def test_colon_file_names_through_the_cli(keys: dict[str, KeyPair], tmp_path: Path) -> None:
    model = tmp_path / "colons"
    model.mkdir()
    (model / "x:1:2").write_bytes(b"z" * 2500)
    common = ["--project", str(tmp_path), "--no-record", "-f", "json"]
    result = CliRunner().invoke(
        app,
        [
            "sign",
            str(model),
            "--key",
            str(keys["p384"].private),
            "--method",
            "shards",
            "--shard-size",
            str(SHARD),
            *common,
        ],
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        app, ["verify", str(model), "--key", str(keys["p384"].public), *common]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["resources"] == 3


# -- (e) name binding ----------------------------------------------------------------------


def _layout(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def test_same_contents_under_other_names_share_the_oms_root_only(
    keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    # The digests keep their order, so the OMS root cannot tell the layouts apart: in the
    # second, "b.bin" holds what "a.bin" held in the first.
    weights, config = b"weights " * 100, b'{"config": true}'
    first = _layout(tmp_path / "first" / "model", {"a.bin": weights, "b.bin": config})
    second = _layout(tmp_path / "second" / "model", {"b.bin": weights, "c.bin": config})
    one, two = ssdf_hash(first, "files", "sha256"), ssdf_hash(second, "files", "sha256")
    assert one["root"] == two["root"]
    assert one["names"] != two["names"]

    # The anchor agrees on the (colliding) root.
    for layout, report in ((first, one), (second, two)):
        signature = tmp_path / f"{layout.parent.name}.sig"
        ms_signing.Config().use_elliptic_key_signer(
            private_key=keys["p256"].private
        ).set_hashing_config(ms_hash_config("files", "sha256")).sign(layout, signature)
        assert statement_of(signature)["subject"][0]["digest"]["sha256"] == report["root"]

    # Our signature binds the names: the name digest is signed and checked.
    signature = tmp_path / "ours.sig"
    result = sign_model(first, signature, Signer(keys["p256"].key), Serialization())
    assert statement_of(signature)["subject"][0]["digest"] == {
        "sha256": one["root"],
        NAMES_KEY: one["names"],
    }
    assert result.names == one["names"]
    signed, _, problems = verify_bundle(signature, Trust(public_key=keys["p256"].key.public_key()))
    assert problems == []
    assert names_digest(signed.resources) == one["names"]
    assert root_digest(signed.resources) == one["root"]
    changes, _ = compare(signed, second, signature=signature)
    assert {(c.kind, c.name) for c in changes} == {
        ("removed", "a.bin"),
        ("changed", "b.bin"),
        ("added", "c.bin"),
    }


@pytest.mark.parametrize("curve", list(CURVES))
def test_altered_names_digest_is_reported_even_when_signed(
    model: Path, keys: dict[str, KeyPair], curve: str, tmp_path: Path
) -> None:
    signature = tmp_path / "model.sig"
    sign_model(model, signature, Signer(keys[curve].key), Serialization())
    trust = Trust(public_key=keys[curve].key.public_key())
    assert_ours_verifies(signature, model, trust)
    forged = "f" * 64

    def edit(statement: Any) -> None:
        statement["subject"][0]["digest"][NAMES_KEY] = forged

    resign(signature, keys[curve].key, edit)
    # The signature is valid (the key signed it), but the statement contradicts itself.
    signed, who, problems = verify_bundle(signature, trust)
    assert who is not None
    assert problems == [
        f"the name-binding digest {forged} does not match the resources' names and digests"
    ]
    # model-signing ignores the extra digest and still accepts it.
    ms_verifying.Config().use_elliptic_key_verifier(public_key=keys[curve].public).verify(
        model, signature
    )
    # ssdf verify fails it, naming the problem.
    result = CliRunner().invoke(
        app,
        [
            "verify",
            str(model),
            "-s",
            str(signature),
            "--key",
            str(keys[curve].public),
            "--project",
            str(tmp_path),
            "--no-record",
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["changes"] == []
    assert report["problems"] == problems
    assert [f["rule_id"] for f in report["findings"]] == ["SSDF-SIGN-005"]


def test_renamed_resource_with_consistent_names_digest_is_caught_by_names(
    model: Path, keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    # A re-signed statement that renames a resource but keeps the old names digest.
    signature = tmp_path / "model.sig"
    sign_model(model, signature, Signer(keys["p256"].key), Serialization())

    def edit(statement: Any) -> None:
        for resource in statement["predicate"]["resources"]:
            if resource["name"] == "config.json":
                resource["name"] = "config.jsom"

    resign(signature, keys["p256"].key, edit)
    _, who, problems = verify_bundle(signature, Trust(public_key=keys["p256"].key.public_key()))
    assert who is not None
    assert len(problems) == 1
    assert "name-binding digest" in problems[0]
