"""Helpers shared by the tests that take the bundled example project through the gate."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ssdf_ai.cli import app


def record_adversarial_samples(root: Path) -> None:
    """Make and record adversarial samples (PW.3.3) for the example project.

    The example's churn model takes dictionaries, not feature arrays, so a small robustness
    set of its own is used: scikit-learn's digits and a logistic regression saved with skops,
    under ``robustness/`` (outside the configured model and data paths). The real
    ``ssdf data augment`` attacks it and records the samples.
    """
    import numpy as np
    import skops.io as sio
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    folder = root / "robustness"
    folder.mkdir(exist_ok=True)
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    np.savez(folder / "digits.npz", X=x, y=y)
    sio.dump(LogisticRegression(max_iter=300).fit(x, y), folder / "digits-lr.skops")
    result = CliRunner().invoke(
        app,
        ["data", "augment", str(folder / "digits.npz"), "--adversarial", "--model",
         str(folder / "digits-lr.skops"), "--label", "label", "--to",
         str(folder / "digits-adversarial.npz"), "--project", str(root), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr


REPO = Path(__file__).resolve().parents[1]
# What the example's requirements become once its planted mistakes are fixed: every package
# pinned to a version without a known advisory, with the artifact's hash.
FIXED_REQUIREMENTS = """\
scikit-learn==1.5.2 --hash=sha256:{h}
skops==0.10.0 --hash=sha256:{h}
torch==2.6.0 --hash=sha256:{h}
transformers==4.38.0 --hash=sha256:{h}
""".format(h="0" * 64)


def fix_planted_mistakes(root: Path) -> None:
    """Undo the example's planted code, secret, dependency and CI mistakes (its README lists
    them) and import the bundled advisories, as a team acting on the findings would: the code
    and environment checks then find nothing to report."""
    (root / "explain.py").unlink()
    (root / "notebooks" / "explore.ipynb").unlink()
    (root / ".github" / "workflows" / "train.yml").unlink()
    (root / "requirements.txt").write_text(FIXED_REQUIREMENTS)
    result = CliRunner().invoke(
        app,
        ["advisories", "update", "--from", str(REPO / "examples" / "advisories"),
         "--project", str(root), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
