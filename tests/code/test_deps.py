"""Reading dependency declarations: requirement files (includes, hashes, markers, editables,
bad lines), pyproject.toml, lock files and installed environments (a real venv)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ssdf_ai.code.deps import (
    Declarations,
    Package,
    collect,
    is_ml_framework,
    poetry_specifier,
    read_installed,
)
from ssdf_ai.errors import InputError

SHA = "sha256:" + "a" * 64


def _by_name(found: Declarations) -> dict[str, Package]:
    return {p.name: p for p in found.packages}


def test_requirements_with_includes_hashes_markers_and_editables(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.in").write_text(
        "# the base set\nnumpy==1.26.4  # pinned\n-c constraints.txt\n"
    )
    (tmp_path / "reqs" / "constraints.txt").write_text("Pillow_SIMD>=9\n")
    (tmp_path / "requirements.txt").write_text(
        "-r reqs/base.in\n"
        "--index-url https://pypi.org/simple\n"
        f"torch==2.5.1 \\\n    --hash={SHA}\n"
        'requests>=2.0,<3 ; python_version >= "3.8"\n'
        "-e git+https://github.com/org/lib.git#egg=my_lib\n"
        "https://example.com/pkg-1.0.tar.gz\n"
        "Transformers[torch] === 4.40.0\n"
        "flask==2.*\n"
    )
    found = collect(tmp_path, tmp_path)
    packages = _by_name(found)
    assert found.files == {
        "requirements.txt": "requirements",
        "reqs/base.in": "requirements",
        "reqs/constraints.txt": "requirements",
    }
    torch = packages["torch"]
    assert (torch.version, torch.line, torch.hashed, torch.source) == (
        "2.5.1",
        3,
        True,
        "requirements.txt",
    )
    assert packages["numpy"].version == "1.26.4"
    assert packages["numpy"].source == "reqs/base.in"
    assert packages["pillow-simd"].specifier == ">=9"  # PEP 503 name from the -c include
    requests = packages["requests"]
    assert requests.version is None
    assert requests.marker == 'python_version >= "3.8"'
    assert requests.specifier == "<3,>=2.0"
    assert packages["my-lib"].unverifiable is not None
    assert "editable" in packages["my-lib"].unverifiable
    assert "URL or path" in (packages["pkg-1.0.tar.gz"].unverifiable or "")
    assert packages["transformers"].version == "4.40.0"
    assert packages["flask"].version is None  # a wildcard pins nothing
    assert found.problems == []
    # requirements.txt has a hash; the included files have none.
    assert sorted(found.unhashed) == ["reqs/base.in", "reqs/constraints.txt"]


def test_bad_lines_and_includes_say_what_and_where(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("evil==1.0\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "loop.txt").write_text("-r requirements.txt\n")
    (project / "requirements.txt").write_text(
        "good==1.0\n"
        "this is not a requirement\n"
        "-r ../outside.txt\n"
        "-r missing.txt\n"
        "-r loop.txt\n" + "x" * 20_000 + "\n" + "-r https://example.com/remote.txt\n"
    )
    found = collect(project / "requirements.txt", project)
    assert [p.name for p in found.packages] == ["good"]
    problems = {(p.path, p.line): p.message for p in found.problems}
    assert problems[("requirements.txt", 2)].startswith("not a requirement")
    assert "outside the project" in problems[("requirements.txt", 3)]
    assert "missing" in problems[("requirements.txt", 4)]
    assert "longer than" in problems[("requirements.txt", 6)]
    assert "remote include" in problems[("requirements.txt", 7)]
    assert "loop.txt" in found.files  # read once; the cycle back is not re-read


def test_include_depth_is_bounded(tmp_path: Path) -> None:
    for index in range(12):
        (tmp_path / f"r{index}.in").write_text(f"-r r{index + 1}.in\npkg{index}==1.0\n")
    (tmp_path / "r12.in").write_text("last==1.0\n")
    found = collect(tmp_path / "r0.in", tmp_path)
    assert any("nested deeper than 8" in p.message for p in found.problems)
    assert "last" not in {p.name for p in found.packages}


def test_symlinked_include_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("secret==1.0\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    (tmp_path / "requirements.txt").write_text("-r link.txt\n")
    found = collect(tmp_path / "requirements.txt", tmp_path)
    assert found.packages == []
    assert "symbolic link" in found.problems[0].message


def test_pyproject_project_optional_groups_and_poetry(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\n"
        'name = "demo"\n'
        'dependencies = ["torch>=2.0", "numpy==1.26.4", "not valid !!"]\n'
        "[project.optional-dependencies]\n"
        'serve = ["gradio==4.0.0"]\n'
        "[dependency-groups]\n"
        'dev = ["pytest>=8", {include-group = "lint"}]\n'
        "[tool.poetry.dependencies]\n"
        'python = "^3.11"\n'
        'transformers = "^4.30"\n'
        'safetensors = {version = "0.4.2"}\n'
        'mylib = {git = "https://github.com/org/mylib.git"}\n'
        "[tool.poetry.group.test.dependencies]\n"
        'hypothesis = "~6.1"\n'
    )
    found = collect(tmp_path, tmp_path)
    packages = _by_name(found)
    assert found.files == {"pyproject.toml": "pyproject"}
    assert packages["torch"].specifier == ">=2.0"
    assert packages["numpy"].version == "1.26.4"
    assert packages["gradio"].version == "4.0.0"
    assert packages["pytest"].specifier == ">=8"
    assert packages["transformers"].specifier == "<5,>=4.30"
    assert packages["safetensors"].version == "0.4.2"
    assert packages["mylib"].unverifiable is not None
    assert packages["hypothesis"].specifier == "<6.2,>=6.1"
    assert "python" not in packages
    [problem] = found.problems
    assert "dependencies" in problem.message
    assert "not valid !!" in problem.message


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", "<2,>=1.2.3"),
        ("^0.2.3", "<0.3,>=0.2.3"),
        ("^0.0.3", "<0.0.4,>=0.0.3"),
        ("~1.2.3", "<1.3,>=1.2.3"),
        ("1.4", "==1.4"),
        (">=1,<2", "<2,>=1"),
        ("*", ""),
    ],
)
def test_poetry_constraints(poetry: str, pep440: str) -> None:
    assert str(poetry_specifier(poetry)) == pep440


def test_lock_files(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text(
        "[[package]]\n"
        'name = "Torch"\nversion = "2.5.1"\n'
        'files = [{file = "torch-2.5.1.whl", hash = "sha256:abc"}]\n'
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "uv.lock").write_text(
        "version = 1\n"
        "[[package]]\n"
        'name = "app"\nversion = "0.1.0"\nsource = { editable = "." }\n'
        "[[package]]\n"
        'name = "transformers"\nversion = "4.40.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        'sdist = { url = "https://x/t.tar.gz", hash = "sha256:def" }\n'
    )
    (tmp_path / "Pipfile.lock").write_text(
        '{"_meta": {}, "default": {"requests": {"version": "==2.31.0", "hashes": ["sha256:1"]}},'
        ' "develop": {"black": {"version": "*"}}}'
    )
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\n[[packages]]\nname = "numpy"\nversion = "1.26.4"\n'
    )
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "poetry.lock").write_text("[[package]\nname=")
    found = collect(tmp_path, tmp_path)
    packages = _by_name(found)
    assert (packages["torch"].version, packages["torch"].hashed) == ("2.5.1", True)
    assert packages["transformers"].version == "4.40.0"
    assert packages["transformers"].source == "app/uv.lock"
    assert "app" not in packages  # the project itself
    assert (packages["requests"].version, packages["requests"].hashed) == ("2.31.0", True)
    assert packages["black"].unverifiable == "locked without a version"
    assert packages["numpy"].version == "1.26.4"
    assert all(p.kind == "lock" for p in found.packages)
    assert [(p.path, p.message[:19]) for p in found.problems] == [
        ("broken/poetry.lock", "not valid TOML: Exp")
    ]


def test_installed_environment_from_a_real_venv(tmp_path: Path) -> None:
    env = tmp_path / "env"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120
    )
    [site] = list(env.glob("lib/python*/site-packages"))
    info = site / "torch-2.5.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1\n\nVersion: 9.9 in the body\n"
    )
    (site / "broken-1.0.dist-info").mkdir()
    # A module that would leave a mark if anything were imported.
    (site / "torch").mkdir()
    (site / "torch" / "__init__.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w')\n")
    found = Declarations()
    read_installed(env, found, label="installed:env")
    assert [(p.name, p.version, p.kind) for p in found.packages] == [
        ("torch", "2.5.1", "installed")
    ]
    assert "broken-1.0.dist-info: no METADATA" in found.problems[0].message
    assert not (tmp_path / "imported").exists()
    # A site-packages folder itself is accepted too.
    again = Declarations()
    read_installed(site, again)
    assert [p.name for p in again.packages] == ["torch"]


def test_an_environment_without_packages_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no installed packages"):
        read_installed(tmp_path, Declarations())
    with pytest.raises(InputError, match="not a folder"):
        read_installed(tmp_path / "nope", Declarations())


def test_ml_frameworks_are_recognised() -> None:
    assert is_ml_framework("Torch")
    assert is_ml_framework("huggingface_hub")
    assert is_ml_framework("langchain-community")
    assert is_ml_framework("llama_index.core")
    assert not is_ml_framework("requests")


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        collect(tmp_path / "nope", tmp_path)


def test_requirements_folder_and_a_file_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "dev.txt").write_text("pytest==8.0.0\n")
    (tmp_path / "notes.txt").write_text("not a requirements file\n")
    (tmp_path / "deps.list").write_text("numpy==1.26.4\n")
    found = collect(tmp_path, tmp_path)
    assert [(p.name, p.source) for p in found.packages] == [("pytest", "requirements/dev.txt")]
    assert found.problems == []  # notes.txt is not read from a folder walk
    single = collect(tmp_path / "deps.list", tmp_path)
    assert [p.name for p in single.packages] == ["numpy"]
