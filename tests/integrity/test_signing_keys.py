"""Signing keys: file modes, passphrases, refusals, key ids, and `ssdf keys generate`."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typer.testing import CliRunner

from ssdf_ai.cli.keys import app as keys_app
from ssdf_ai.errors import InputError
from ssdf_ai.integrity import (
    generate_keypair,
    is_encrypted,
    key_id,
    load_private_key,
    load_public_key,
)

SECRET = b"correct horse battery staple"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Run with umask 0, so that any mode wider than asked would show."""
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.mark.usefixtures("permissive_umask")
def test_private_key_is_0600_and_public_key_0644(tmp_path: Path) -> None:
    generated = generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=None)
    assert _mode(generated.private_path) == 0o600
    assert _mode(generated.public_path) == 0o644
    assert b"PRIVATE KEY" in generated.private_path.read_bytes()
    assert generated.public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_private_key_is_never_created_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Record the mode every file is created with: 0600 from the start, not chmod-ed later.
    created: dict[str, int] = {}
    real_open = os.open

    def spy(path: str | Path, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created[os.fspath(path)] = mode
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=SECRET)
    assert created[str(tmp_path / "a.key")] == 0o600


@pytest.mark.parametrize("existing", ["a.key", "a.pub"])
def test_refuses_to_overwrite_either_file(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("keep me")
    with pytest.raises(InputError, match="already exists"):
        generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=None)
    assert (tmp_path / existing).read_text() == "keep me"
    other = {"a.key", "a.pub"} - {existing}
    assert not (tmp_path / other.pop()).exists()


def test_encrypted_key_needs_its_passphrase(tmp_path: Path) -> None:
    generated = generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=SECRET)
    assert generated.encrypted
    assert is_encrypted(generated.private_path)
    assert b"ENCRYPTED PRIVATE KEY" in generated.private_path.read_bytes()
    with pytest.raises(InputError, match="encrypted and no passphrase"):
        load_private_key(generated.private_path)
    with pytest.raises(InputError, match="wrong passphrase") as wrong:
        load_private_key(generated.private_path, b"not it")
    assert "not it" not in wrong.value.diagnostics()
    key = load_private_key(generated.private_path, SECRET)
    assert key_id(key.public_key()) == generated.key_id


def test_unencrypted_key_refuses_a_passphrase(tmp_path: Path) -> None:
    generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=None)
    assert not is_encrypted(tmp_path / "a.key")
    with pytest.raises(InputError, match="not encrypted"):
        load_private_key(tmp_path / "a.key", SECRET)
    load_private_key(tmp_path / "a.key")


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=b"")


def test_key_id_is_sha256_of_the_public_pem(tmp_path: Path) -> None:
    generated = generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=None)
    expected = hashlib.sha256(generated.public_path.read_bytes()).hexdigest()
    assert generated.key_id == expected
    assert key_id(load_public_key(generated.public_path)) == expected


def _write_pem(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_suffix(".pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ec.generate_private_key(ec.SECP384R1()), "curve secp384r1, not P-256"),
        (lambda: rsa.generate_private_key(65537, 2048), "not an ECDSA"),
    ],
    ids=["p384", "rsa"],
)
def test_keys_other_than_p256_are_refused(
    tmp_path: Path,
    make: Callable[[], ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey],
    message: str,
) -> None:
    _write_pem(tmp_path / "k.key", make())
    with pytest.raises(InputError, match=message):
        load_private_key(tmp_path / "k.key")
    with pytest.raises(InputError, match=message):
        load_public_key(tmp_path / "k.pub")


@pytest.mark.parametrize("content", [b"", b"hello", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"])
def test_garbage_is_not_a_key(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "x.key").write_bytes(content)
    with pytest.raises(InputError, match="not a PEM private key"):
        load_private_key(tmp_path / "x.key")
    with pytest.raises(InputError, match="not a PEM public key"):
        load_public_key(tmp_path / "x.key")


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no private key"):
        load_private_key(tmp_path / "nope.key")
    with pytest.raises(InputError, match="no public key"):
        load_public_key(tmp_path / "nope.pub")


# -- ssdf keys generate ------------------------------------------------------------------


@pytest.fixture
def keys_cli() -> typer.Typer:
    """A root app with the `keys` group, as the lead registers it."""
    root = typer.Typer()
    root.add_typer(keys_app, name="keys")
    return root


def test_generate_writes_keys_and_prints_the_signers_entry(
    tmp_path: Path, keys_cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEC_TEST_PASS", SECRET.decode())
    args = ["keys", "generate", "Alice Smith", "--passphrase-env", "DEC_TEST_PASS"]
    result = CliRunner().invoke(keys_cli, [*args, "--project", str(tmp_path), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["report"] == "keys-generate"
    assert report["public_key_config"] == "keys/Alice-Smith.pub"
    assert report["encrypted"] is True
    assert report["snippet"] == (
        '[[signers]]\nname = "Alice Smith"\npublic_key = "keys/Alice-Smith.pub"\n'
    )
    assert _mode(tmp_path / "keys" / "Alice-Smith.key") == 0o600
    assert "*.key" in (tmp_path / "keys" / ".gitignore").read_text()
    # Neither the private key nor the passphrase appears in any output.
    assert "PRIVATE KEY" not in result.output
    assert SECRET.decode() not in result.output
    load_private_key(tmp_path / "keys" / "Alice-Smith.key", SECRET)


def test_generate_terminal_view_shows_the_snippet(tmp_path: Path, keys_cli: typer.Typer) -> None:
    result = CliRunner().invoke(
        keys_cli,
        ["keys", "generate", "bob", "--unsafe-no-passphrase", "--project", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert 'public_key = "keys/bob.pub"' in result.stdout
    assert "NOT encrypted" in result.stdout
    assert "PRIVATE KEY" not in result.output


def test_generate_needs_a_passphrase_source(tmp_path: Path, keys_cli: typer.Typer) -> None:
    result = CliRunner().invoke(keys_cli, ["keys", "generate", "bob", "--project", str(tmp_path)])
    assert result.exit_code == 2
    assert "--unsafe-no-passphrase" in result.stderr
    assert not (tmp_path / "keys" / "bob.key").exists()


def test_generate_refuses_an_unset_passphrase_variable(
    tmp_path: Path, keys_cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEC_UNSET", raising=False)
    result = CliRunner().invoke(
        keys_cli,
        ["keys", "generate", "bob", "--passphrase-env", "DEC_UNSET", "--project", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "DEC_UNSET is not set" in result.stderr


def test_generate_refuses_to_overwrite(tmp_path: Path, keys_cli: typer.Typer) -> None:
    args = ["keys", "generate", "bob", "--unsafe-no-passphrase", "--project", str(tmp_path)]
    assert CliRunner().invoke(keys_cli, args).exit_code == 0
    before = (tmp_path / "keys" / "bob.key").read_bytes()
    result = CliRunner().invoke(keys_cli, args)
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert (tmp_path / "keys" / "bob.key").read_bytes() == before


def test_generate_into_another_directory(tmp_path: Path, keys_cli: typer.Typer) -> None:
    project, elsewhere = tmp_path / "p", tmp_path / "secret"
    project.mkdir()
    result = CliRunner().invoke(
        keys_cli,
        ["keys", "generate", "bob", "--unsafe-no-passphrase", "--out", str(elsewhere),
         "--project", str(project), "-f", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (elsewhere / "bob.key").is_file()
    assert not (elsewhere / ".gitignore").exists()
    assert any("outside the project" in w for w in report["warnings"])


def test_generate_quiet_prints_nothing(tmp_path: Path, keys_cli: typer.Typer) -> None:
    result = CliRunner().invoke(
        keys_cli,
        ["keys", "generate", "bob", "--unsafe-no-passphrase", "-q", "--project", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert (tmp_path / "keys" / "bob.pub").is_file()


class _Terminal:
    """A stand-in for stdin attached to a terminal."""

    def isatty(self) -> bool:
        return True


def test_passphrases_are_asked_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssdf_ai.cli import keys as keys_module

    answers = iter(["s3cret", "s3cret", "typo", "s3cret", "other", "s3cret"])
    monkeypatch.setattr(keys_module.sys, "stdin", _Terminal())
    monkeypatch.setattr(keys_module, "_prompt", lambda label: next(answers))
    assert keys_module.new_passphrase(None, unsafe_none=False) == b"s3cret"
    with pytest.raises(InputError, match="differ"):
        keys_module.new_passphrase(None, unsafe_none=False)
    with pytest.raises(InputError, match="not both"):
        keys_module.new_passphrase("VAR", unsafe_none=True)
    generate_keypair(tmp_path / "a.key", tmp_path / "a.pub", passphrase=b"s3cret")
    assert keys_module.signing_passphrase(tmp_path / "a.key", None) == b"other"
    generate_keypair(tmp_path / "b.key", tmp_path / "b.pub", passphrase=None)
    assert keys_module.signing_passphrase(tmp_path / "b.key", None) is None
