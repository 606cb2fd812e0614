"""``ssdf_ai.code.env``: permissions, git contents, placement, on real files with real modes, a
real git repository and real safetensors and torch files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from ssdf_ai.code import env_rules as rules
from ssdf_ai.code.env import check_environment, is_env_file, key_kind
from ssdf_ai.errors import InputError
from ssdf_ai.findings import Severity

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg" + "A" * 16 + "\n"
    "-----END PRIVATE KEY-----\n"
)
CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)


def _weights(path: Path, mode: int = 0o640) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.arange(12, dtype=np.float32).reshape(3, 4)}, str(path))
    path.chmod(mode)
    return path


def _file(path: Path, text: str, mode: int = 0o640) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def _git(repo: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",  # noqa: S607
         "-c", "init.defaultBranch=main", *args],
        cwd=repo, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def _rules(result_findings: tuple[object, ...]) -> dict[tuple[str, str], Severity]:
    """The findings by rule and path, without the readable-by-all notes (every file these
    tests write with mode 0644 would have one; they have a test of their own)."""
    return {
        (f.rule_id, f.location.path or ""): f.severity  # type: ignore[attr-defined]
        for f in result_findings
        if f.rule_id != rules.READABLE_BY_ALL  # type: ignore[attr-defined]
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir(mode=0o755)
    project.chmod(0o755)
    return project


# Permissions ---------------------------------------------------------------------------------
def test_permissions_by_kind(root: Path) -> None:
    _file(root / "keys" / "deploy.pem", PEM, 0o644)  # world-readable private key
    _file(root / "keys" / "ok.pem", PEM, 0o600)
    _file(root / "keys" / "cert.pem", CERT, 0o644)  # a certificate is public
    _file(root / ".netrc", "machine example.com login a password b\n", 0o604)
    _weights(root / "models" / "open.safetensors", 0o666)  # world-writable
    _weights(root / "models" / "team.safetensors", 0o664)  # group-writable
    _weights(root / "models" / "fine.safetensors", 0o644)
    _file(root / "data" / "train.csv", "a,b\n1,2\n", 0o664)
    _file(root / "data" / "readme.txt", "about\n", 0o646)
    _file(root / "notes.txt", "not sensitive\n", 0o666)  # not weights, data or a key
    found = _rules(check_environment(root).findings)
    assert found == {
        (rules.KEY_PERMISSIONS, "keys/deploy.pem"): Severity.HIGH,
        (rules.KEY_PERMISSIONS, ".netrc"): Severity.HIGH,
        (rules.MODEL_PERMISSIONS, "models/open.safetensors"): Severity.HIGH,
        (rules.MODEL_PERMISSIONS, "models/team.safetensors"): Severity.MEDIUM,
        (rules.DATA_PERMISSIONS, "data/train.csv"): Severity.MEDIUM,
        (rules.DATA_PERMISSIONS, "data/readme.txt"): Severity.HIGH,
    }


def test_world_writable_folders_holding_sensitive_files(root: Path) -> None:
    _weights(root / "shared" / "m.safetensors")
    _weights(root / "sticky" / "m.safetensors")
    _file(root / "open" / "notes.txt", "nothing sensitive\n")
    (root / "shared").chmod(0o777)
    (root / "sticky").chmod(0o1777)
    (root / "open").chmod(0o777)
    found = _rules(check_environment(root).findings)
    assert found == {
        (rules.FOLDER_PERMISSIONS, "shared"): Severity.HIGH,
        (rules.FOLDER_PERMISSIONS, "sticky"): Severity.MEDIUM,
    }


def test_weights_are_recognised_by_content_not_name(root: Path) -> None:
    import torch

    _weights(root / "blob.dat", 0o666)  # safetensors under another name
    torch.save({"w": torch.zeros(2, 2)}, root / "checkpoint.bin")
    (root / "checkpoint.bin").chmod(0o666)
    _file(root / "fake.safetensors", "just text, not weights\n", 0o666)
    np.save(root / "arrays.npy", np.zeros(3))  # NumPy arrays are data as often as weights
    (root / "arrays.npy").chmod(0o666)
    result = check_environment(root)
    assert set(result.weights) == {"blob.dat", "checkpoint.bin"}
    found = _rules(result.findings)
    assert found == {
        (rules.MODEL_PERMISSIONS, "blob.dat"): Severity.HIGH,
        (rules.MODEL_PERMISSIONS, "checkpoint.bin"): Severity.HIGH,
    }
    messages = {f.location.path: f.message for f in result.findings}
    assert "torch-zip" in messages["checkpoint.bin"]


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("server.key", "anything\n", "private key"),
        ("id_ed25519", "opaque\n", "private key"),
        ("notes.txt", PEM, "private key"),
        ("cert.pem", CERT, None),
        (
            "svc.json",
            '{"type": "service_account", "private_key": "-----BEGIN"}',
            "service-account key",
        ),
        ("config.json", '{"private": "no"}', None),
        (".env", "TOKEN=x\n", "credentials file"),
        (".env.production", "TOKEN=x\n", "credentials file"),
        (".env.example", "TOKEN=\n", None),
        (
            ".pypirc",
            "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc\n",
            "credentials file",
        ),
        (".pypirc", "[distutils]\nindex-servers = pypi\n", None),
        (".npmrc", "//registry.npmjs.org/:_authToken=npm_abc123\n", "credentials file"),
        (".npmrc", "engine-strict=true\nsave-exact=true\n", None),
        (".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", None),
        ("credentials", "[default]\n", "credentials file"),
        ("code.py", 'KEY = "-----BEGIN PRIVATE KEY-----"\n', None),
    ],
)
def test_key_recognition(name: str, content: str, kind: str | None) -> None:
    assert key_kind(name, content.encode()) == kind


def test_env_file_names() -> None:
    assert is_env_file(".env")
    assert is_env_file(".env.local")
    assert not is_env_file(".env.template")
    assert not is_env_file("env.py")


def test_symlinks_out_of_the_tree_are_not_followed(root: Path, tmp_path: Path) -> None:
    outside = _file(tmp_path / "secret" / "id_rsa", PEM, 0o666)
    outside_weights = _weights(tmp_path / "secret" / "w.safetensors", 0o666)
    (root / "link_key").symlink_to(outside)
    (root / "link.safetensors").symlink_to(outside_weights)
    (root / "linked_dir").symlink_to(outside.parent, target_is_directory=True)
    result = check_environment(root)
    assert result.files_checked == 0
    assert result.findings == ()
    with pytest.raises(InputError, match="not a folder"):
        check_environment(root / "linked_dir")


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        check_environment(tmp_path / "absent")


# Placement -----------------------------------------------------------------------------------
def test_reward_model_beside_policy_and_in_data(root: Path) -> None:
    _weights(root / "models" / "policy.safetensors")
    _weights(root / "models" / "reward_model.safetensors")
    _weights(root / "models" / "llama-rm.safetensors")
    _weights(root / "models" / "norm_layer.safetensors")  # "norm" is not "rm"
    _weights(root / "data" / "rm_v2.safetensors")
    _weights(root / "data" / "embedder.safetensors")
    _file(root / "data" / "train.jsonl", '{"x": 1}\n')
    found = _rules(check_environment(root).findings)
    assert found == {
        (rules.REWARD_BESIDE, "models/reward_model.safetensors"): Severity.MEDIUM,
        (rules.REWARD_BESIDE, "models/llama-rm.safetensors"): Severity.MEDIUM,
        (rules.REWARD_BESIDE, "data/rm_v2.safetensors"): Severity.MEDIUM,
        (rules.WEIGHTS_IN_DATA, "data/embedder.safetensors"): Severity.MEDIUM,
    }


def test_reward_model_recognised_by_its_config(root: Path) -> None:
    folder = root / "checkpoints" / "step-100"
    _weights(folder / "model.safetensors")
    _weights(folder / "model-00002.safetensors")
    _file(folder / "config.json", json.dumps({"architectures": ["LlamaForCausalLM"]}))
    assert check_environment(root).findings == ()
    (folder / "config.json").write_text(
        json.dumps({"architectures": ["LlamaForSequenceClassification"], "num_labels": 1})
    )
    _weights(folder / "adapter.safetensors")  # now beside the reward model's own weights
    # Every weight file of a reward folder is the reward model: nothing else is beside it.
    assert check_environment(root).findings == ()
    apart = root / "models" / "v1"
    _weights(apart / "model.safetensors")
    _file(apart / "config.json", json.dumps({"architectures": ["X"], "_name_or_path": "o/reward"}))
    _weights(root / "models" / "policy.safetensors")
    assert check_environment(root).findings == ()  # the reward folder is a folder of its own
    _weights(root / "models" / "v1" / "policy.safetensors")
    # A reward folder's weights are all the reward model's: a policy in it is not told apart.
    assert check_environment(root).findings == ()


def test_datasets_in_model_folders(root: Path) -> None:
    model = root / "models" / "bert"
    _weights(model / "model.safetensors")
    _file(model / "config.json", "{}")
    _file(model / "tokenizer.json", "{}")  # part of the model, not data
    _file(model / "eval" / "test.parquet", "PAR1")
    found = _rules(check_environment(root).findings)
    assert found == {(rules.DATA_IN_MODELS, "models/bert/eval/test.parquet"): Severity.LOW}


def test_configured_paths(root: Path) -> None:
    _weights(root / "corpus" / "cache.safetensors")  # in a configured dataset path
    _weights(root / "data" / "model.safetensors")  # "data" means nothing once paths are set
    _file(root / "registry" / "samples.csv", "a\n1\n")
    found = _rules(
        check_environment(root, models=("registry",), datasets=("corpus", "extra/*.csv")).findings
    )
    assert found == {
        (rules.WEIGHTS_IN_DATA, "corpus/cache.safetensors"): Severity.MEDIUM,
        (rules.DATA_IN_MODELS, "registry/samples.csv"): Severity.LOW,
    }


def test_paths_relative_to_the_project_root(root: Path) -> None:
    sub = root / "svc"
    _weights(sub / "models" / "m.safetensors", 0o666)
    result = check_environment(sub, root=root)
    assert result.path == "svc"
    # the world-writable finding, and the readable-by-all note
    assert [f.location.path for f in result.findings] == ["svc/models/m.safetensors"] * 2


# Git -----------------------------------------------------------------------------------------
def test_committed_secrets_and_weights(root: Path) -> None:
    _git(root, "init", "-q")
    _file(root / "deploy.pem", PEM, 0o600)
    _file(root / ".env", "TOKEN=abc\n", 0o600)
    _weights(root / "model.safetensors")
    import torch

    torch.save({"w": torch.ones(1)}, root / "head.pt")
    _file(root / "pointer.safetensors", LFS_POINTER)  # an LFS pointer committed as-is
    _file(root / "README.md", "# demo\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    result = check_environment(root)
    assert result.git
    found = _rules(result.findings)
    assert found == {
        (rules.SECRET_COMMITTED, "deploy.pem"): Severity.HIGH,
        (rules.SECRET_COMMITTED, ".env"): Severity.HIGH,
        (rules.WEIGHTS_COMMITTED, "model.safetensors"): Severity.MEDIUM,
        (rules.WEIGHTS_COMMITTED, "head.pt"): Severity.MEDIUM,
    }
    assert result.counts["git"] == 4


def test_lfs_pointer_in_the_index_with_real_weights_checked_out(root: Path) -> None:
    _git(root, "init", "-q")
    pointer = _file(root.parent / "pointer.txt", LFS_POINTER)
    blob = _git(root, "hash-object", "-w", str(pointer)).strip()
    _git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},model.safetensors")
    _git(root, "commit", "-q", "-m", "lfs")
    _weights(root / "model.safetensors")  # what git-lfs's smudge filter leaves in the tree
    assert _git(root, "ls-files") == "model.safetensors\n"
    assert check_environment(root).findings == ()


def test_env_files_ignored_or_not(root: Path) -> None:
    _git(root, "init", "-q")
    _file(root / ".gitignore", ".env\n")
    _file(root / ".env", "A=1\n", 0o600)
    _file(root / "svc" / ".env.local", "A=1\n", 0o600)
    _file(root / "svc" / ".env.example", "A=\n")
    found = _rules(check_environment(root).findings)
    assert found == {(rules.ENV_NOT_IGNORED, "svc/.env.local"): Severity.MEDIUM}
    _file(root / ".gitignore", ".env\n.env.*\n!.env.example\n")
    assert check_environment(root).findings == ()


@pytest.mark.parametrize(
    ("gitignore", "flagged"),
    [
        (None, {".env", "app/.env"}),
        (".env\n", set()),
        ("*.env\n.env*\n", set()),
        ("/.env\n", {"app/.env"}),
        (".env\n!app/.env\n", {"app/.env"}),
        ("# .env\n", {".env", "app/.env"}),
    ],
)
def test_env_files_without_git_use_gitignore(
    root: Path, gitignore: str | None, flagged: set[str]
) -> None:
    if gitignore is not None:
        _file(root / ".gitignore", gitignore)
    _file(root / ".env", "A=1\n", 0o600)
    _file(root / "app" / ".env", "A=1\n", 0o600)
    result = check_environment(root)
    assert not result.git
    assert {f.location.path for f in result.findings if f.rule_id == rules.ENV_NOT_IGNORED} == (
        flagged
    )


def test_huge_files_are_not_read_whole(root: Path) -> None:
    import time

    big = root / "data" / "huge.csv"
    big.parent.mkdir()
    with big.open("wb") as handle:
        handle.truncate(8 << 30)  # sparse: 8 GiB that occupy no disk
    big.chmod(0o666)
    started = time.monotonic()
    result = check_environment(root)
    assert time.monotonic() - started < 10
    assert _rules(result.findings) == {(rules.DATA_PERMISSIONS, "data/huge.csv"): Severity.HIGH}


def test_zip_with_a_huge_member_list_is_not_listed(root: Path) -> None:
    import pickle
    import zipfile

    def torch_like(path: Path, extra: int) -> None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
            archive.writestr("archive/version", "3\n")
            for index in range(extra):
                archive.writestr(f"archive/data/{index}", b"")

    torch_like(root / "small.bin", 1)
    torch_like(root / "crowded.bin", 50_001)
    assert check_environment(root).weights == ("small.bin",)


def test_every_rule_is_documented_with_a_remediation() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "env.md").read_text()
    assert list(rules.RULES) == [f"SSDF-ENV-{n:03d}" for n in range(1, len(rules.RULES) + 1)]
    for rule_id, rule in rules.RULES.items():
        assert f"`{rule_id}` {rule.name}" in docs
        assert rules.REMEDIATION[rule_id]
        assert rule.task_ids
    assert set(rules.REMEDIATION) == set(rules.RULES)


def test_rule_task_ids_exist_in_the_catalog() -> None:
    from ssdf_ai.profile import load_catalog

    catalog = load_catalog()
    for rule in rules.RULES.values():
        for task_id in rule.task_ids:
            assert catalog.find(task_id) is not None, task_id


def test_confidence_says_how_a_finding_was_recognised(root: Path) -> None:
    _file(root / "tls.key", "opaque\n", 0o644)  # a key by its name alone
    _file(root / "by-content.txt", PEM, 0o644)
    _weights(root / "models" / "policy.safetensors")
    _weights(root / "models" / "reward.safetensors")
    sure = {f.location.path: f.confidence.value for f in check_environment(root).findings}
    assert sure == {
        "tls.key": "medium",
        "by-content.txt": "high",
        "models/reward.safetensors": "medium",
    }


def test_weights_and_data_readable_by_all_are_one_note_per_kind(root: Path) -> None:
    for n in range(5):
        _weights(root / "models" / f"m{n}.safetensors", 0o644)
    _file(root / "data" / "train.csv", "a,b\n1,2\n", 0o644)
    _weights(root / "models" / "closed.safetensors", 0o640)
    notes = [f for f in check_environment(root).findings if f.rule_id == rules.READABLE_BY_ALL]
    assert [(f.severity, f.location.path) for f in notes] == [
        (Severity.INFO, "models/m0.safetensors"),
        (Severity.INFO, "data/train.csv"),
    ]
    assert notes[0].message.startswith("5 weight file(s) readable by every user")
    assert "and 2 more" in notes[0].message
    assert "closed.safetensors" not in notes[0].message
