"""The AST rules of ``ssdf code``, one source snippet at a time (ssdf_ai.code.analyze)."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from ssdf_ai.code import code_rules
from ssdf_ai.code.analyze import analyze_path, analyze_source, neutralise_cell
from ssdf_ai.findings import Confidence, Severity


def _rules(source: str, root: Path | None = None) -> list[tuple[str, int]]:
    findings, _ = analyze_source(textwrap.dedent(source), "snippet.py", root=root)
    return [(f.rule_id, f.location.line or 0) for f in findings]


def _ids(source: str) -> set[str]:
    return {rule for rule, _ in _rules(source)}


# (source, the rule ids it must raise; an empty set: it must raise none)
CASES = [
    pytest.param("import torch as t\nt.load(p)\n", {"SSDF-CODE-001"}, id="torch-alias"),
    pytest.param(
        "from torch import load\nload(p, weights_only=False)\n",
        {"SSDF-CODE-001"},
        id="torch-from-import",
    ),
    pytest.param("import torch\ntorch.load(p, weights_only=True)\n", set(), id="torch-safe"),
    pytest.param("from pickle import loads as l\nl(blob)\n", {"SSDF-CODE-002"}, id="pickle-alias"),
    pytest.param("import joblib\njoblib.load(path)\n", {"SSDF-CODE-002"}, id="joblib-var"),
    pytest.param("import joblib\njoblib.load('models/m.joblib')\n", set(), id="joblib-const"),
    pytest.param(
        "import pandas as pd\npd.read_pickle('/etc/x.pkl')\n",
        {"SSDF-CODE-002"},
        id="pandas-abs-outside",
    ),
    pytest.param(
        "import pickle\nwith open('../x.pkl','rb') as f:\n    pickle.load(f)\n",
        {"SSDF-CODE-002"},
        id="pickle-parent-dir",
    ),
    pytest.param(
        "import pickle\nwith open('a/x.pkl','rb') as f:\n    pickle.load(f)\n",
        set(),
        id="pickle-with-const",
    ),
    pytest.param(
        "import numpy as np\nnp.load(p, allow_pickle=True)\n",
        {"SSDF-CODE-002"},
        id="numpy-allow-pickle",
    ),
    pytest.param("import numpy as np\nnp.load(p)\n", set(), id="numpy-default"),
    pytest.param("f(x, trust_remote_code=True)\n", {"SSDF-CODE-003"}, id="trust-remote-code"),
    pytest.param("f(x, trust_remote_code=False)\n", set(), id="trust-remote-code-false"),
    pytest.param(
        "from transformers import AutoModel\nAutoModel.from_pretrained('gpt2')\n",
        {"SSDF-CODE-004"},
        id="unpinned",
    ),
    pytest.param(
        "from transformers import AutoModel\nAutoModel.from_pretrained('gpt2', revision='main')\n",
        {"SSDF-CODE-004"},
        id="branch-not-pinned",
    ),
    pytest.param(
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('gpt2', revision='" + "a" * 40 + "')\n",
        set(),
        id="pinned",
    ),
    pytest.param(
        "from transformers import AutoModel\nAutoModel.from_pretrained('./m')\n",
        set(),
        id="local-path",
    ),
    pytest.param(
        "from datasets import load_dataset\nload_dataset('json', data_files='a')\n",
        set(),
        id="dataset-builder",
    ),
    pytest.param(
        "from transformers import pipeline\npipeline('ner', model='dslim/bert')\n",
        {"SSDF-CODE-004"},
        id="pipeline-model",
    ),
    pytest.param("import yaml\nyaml.load(s)\n", {"SSDF-CODE-005"}, id="yaml-default"),
    pytest.param(
        "import yaml\nyaml.load(s, Loader=yaml.FullLoader)\n", {"SSDF-CODE-005"}, id="yaml-full"
    ),
    pytest.param("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)\n", set(), id="yaml-safe"),
    pytest.param(
        "from ruamel.yaml import YAML\nyaml = YAML(typ='safe')\nyaml.load(s)\n",
        set(),
        id="ruamel-is-not-pyyaml",
    ),
    pytest.param(
        "import requests\nrequests.get(u, verify=False)\n", {"SSDF-CODE-009"}, id="requests-verify"
    ),
    pytest.param(
        "import requests\ns = requests.Session()\ns.verify = False\n",
        {"SSDF-CODE-009"},
        id="session-verify",
    ),
    pytest.param(
        "import ssl\nc = ssl._create_unverified_context()\n",
        {"SSDF-CODE-009"},
        id="unverified-context",
    ),
    pytest.param(
        "import os\nos.environ['REQUESTS_CA_BUNDLE'] = ''\n",
        {"SSDF-CODE-009"},
        id="ca-bundle-empty",
    ),
    pytest.param(
        "import os\nos.environ.update({'CURL_CA_BUNDLE': ''})\n",
        {"SSDF-CODE-009"},
        id="ca-bundle-update",
    ),
    pytest.param(
        "import aiohttp\naiohttp.ClientSession().get(u, ssl=False)\n",
        {"SSDF-CODE-009"},
        id="aiohttp-ssl",
    ),
    pytest.param(
        "def check(x, verify=False):\n    pass\ncheck(1, verify=False)\n",
        set(),
        id="verify-kw-not-http",
    ),
    pytest.param(
        "from langchain_experimental.tools import PythonREPLTool\nt = PythonREPLTool()\n",
        {"SSDF-CODE-008"},
        id="python-repl-tool",
    ),
    pytest.param(
        "from langchain.agents import load_tools\nload_tools(['shell'])\n",
        {"SSDF-CODE-008"},
        id="load-tools-shell",
    ),
    pytest.param(
        "import os\nfrom langchain_core.tools import tool\n@tool\ndef sh(c):\n"
        "    return os.popen(c).read()\n",
        {"SSDF-CODE-008"},
        id="tool-popen",
    ),
    pytest.param(
        "from smolagents import CodeAgent\nCodeAgent(tools=[], model=m, executor_type='docker')\n",
        set(),
        id="code-agent-docker",
    ),
    pytest.param(
        "x = f(allow_dangerous_requests=True)\n", {"SSDF-CODE-008"}, id="dangerous-requests"
    ),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_rule_table(source: str, expected: set[str]) -> None:
    assert _ids(source) == expected


def test_model_output_reaches_every_kind_of_sink() -> None:
    source = """
        import os, subprocess, shutil
        from pathlib import Path
        from markupsafe import Markup
        from openai import OpenAI
        client = OpenAI()

        def handle(q, cur):
            r = client.chat.completions.create(model="m", messages=[])
            text, extra = r.choices[0].message.content, 1
            exec(text)
            subprocess.Popen(["sh", "-c", text])
            cur.execute("DELETE FROM t WHERE id = %s" % text)
            Path(text.strip()).unlink()
            Markup(text.upper())
            shutil.rmtree(text)
            return "<b>" + text + "</b>"
    """
    lines = sorted(line for rule, line in _rules(source) if rule == "SSDF-CODE-006")
    assert lines == [11, 12, 13, 14, 15, 16, 17]


def test_sanitisers_count_only_for_their_own_sink() -> None:
    source = """
        import html, os, shlex
        def f(llm):
            out = llm.invoke("x").content
            safe_html = html.escape(out)
            safe_shell = shlex.quote(out)
            page = f"<p>{safe_html}</p>"
            os.system("echo " + safe_shell)
            os.system("echo " + safe_html)
            return page
    """
    assert _rules(source) == [("SSDF-CODE-006", 9)]


def test_parameterised_sql_and_neutral_uses_are_clean() -> None:
    source = """
        def f(llm, cur):
            answer = llm.invoke("q")
            cur.execute("SELECT * FROM t WHERE a = ?", (answer,))
            if len(answer) > 3 and answer == "yes":
                print(answer)
            return {"answer": answer}
    """
    assert _rules(source) == []


def test_model_output_flows_across_functions_of_a_module() -> None:
    source = """
        import subprocess
        from litellm import completion
        def ask(p):
            return completion(model="m", messages=[{"role": "user", "content": p}])
        def main():
            reply = ask("cmd")
            subprocess.run(reply.choices[0].message.content, shell=True)
    """
    assert _rules(source) == [("SSDF-CODE-006", 8)]


def test_tokenizer_decode_is_a_source_but_bytes_decode_is_not() -> None:
    source = """
        import os
        def f(tokenizer, data, model, ids):
            os.system(data.decode("utf-8"))
            os.system(tokenizer.batch_decode(model.generate(ids))[0])
    """
    assert _rules(source) == [("SSDF-CODE-006", 5)]


def test_untrusted_input_in_system_prompts() -> None:
    source = """
        import sys
        from flask import request
        from langchain_core.messages import SystemMessage
        def view():
            who = request.get_json()["who"]
            a = {"role": "system", "content": "Talk like " + who}
            b = SystemMessage(content=f"Be {who}")
            c = client.messages.create(system=who, messages=[])
            system_prompt = "You help {}".format(sys.argv[1])
            d = {"role": "user", "content": who}
            e = {"role": "system", "content": "constant"}
    """
    assert _rules(source) == [
        ("SSDF-CODE-007", 7),
        ("SSDF-CODE-007", 8),
        ("SSDF-CODE-007", 9),
        ("SSDF-CODE-007", 10),
    ]


def test_route_parameters_are_untrusted() -> None:
    source = """
        from fastapi import FastAPI
        app = FastAPI()
        @app.get("/x")
        def x(tone: str):
            prompt = [("system", f"Use a {tone} tone"), ("user", "hi")]
        def not_a_route(tone: str):
            prompt = [("system", f"Use a {tone} tone"), ("user", "hi")]
    """
    assert _rules(source) == [("SSDF-CODE-007", 6)]


def test_autogen_local_execution() -> None:
    source = """
        import autogen
        a = autogen.UserProxyAgent("u", code_execution_config={"use_docker": False})
        b = autogen.UserProxyAgent("u", code_execution_config={"use_docker": True})
    """
    assert _rules(source) == [("SSDF-CODE-008", 3)]


HF_TOKEN = "hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567"


def test_secrets_come_from_the_detector_and_are_never_shown_whole() -> None:
    source = f'login(token="{HF_TOKEN}")\napi_key = "q7Zp2LmX9vK4tR8wB3nY6cF1hJ5dS0aG"\n'
    findings, _ = analyze_source(source, "s.py")
    assert [(f.rule_id, f.location.line) for f in findings] == [
        ("SSDF-CODE-010", 1),
        ("SSDF-CODE-010", 2),
    ]
    assert "huggingface" in findings[0].message
    for finding in findings:
        assert HF_TOKEN not in finding.message
        assert "q7Zp2LmX9vK4tR8wB3nY6cF1hJ5dS0aG" not in finding.message


@pytest.mark.parametrize(
    "line",
    [
        'api_key = "YOUR_API_KEY"',
        'password = "changeme"',
        'token = ""',
        "api_key = os.environ['OPENAI_API_KEY']",
        'client = OpenAI(api_key=os.getenv("K"))',
        'pad_token = "<|endoftext|>"',
    ],
)
def test_placeholders_are_not_secrets(line: str) -> None:
    assert _ids(line + "\n") == set()


def test_unparseable_sources_are_findings_not_crashes() -> None:
    findings, _ = analyze_source('print "py2"\n', "old.py")
    assert [(f.rule_id, f.severity) for f in findings] == [("SSDF-CODE-011", Severity.LOW)]
    deep = "x = " + "+".join(["a"] * 20_000) + "\n"
    findings, _ = analyze_source(deep, "deep.py")
    assert [f.rule_id for f in findings] == ["SSDF-CODE-011"]
    assert "nested too deeply" in findings[0].message


def test_suppression_needs_a_justification() -> None:
    source = (
        "import torch\n"
        "torch.load(a)  # ssdf: ignore[SSDF-CODE-001] signed registry weights\n"
        "# ssdf: ignore[SSDF-CODE-001] verified by ssdf integrity\n"
        "torch.load(b)\n"
        "torch.load(c)  # ssdf: ignore[SSDF-CODE-001]\n"
        "torch.load(d)  # ssdf: ignore[SSDF-CODE-005] wrong rule\n"
    )
    findings, suppressed = analyze_source(source, "s.py")
    assert sorted((f.rule_id, f.location.line) for f in findings) == [
        ("SSDF-CODE-001", 5),
        ("SSDF-CODE-001", 6),
        ("SSDF-CODE-012", 5),
    ]
    assert [(s.line, s.justification) for s in suppressed] == [
        (2, "signed registry weights"),
        (4, "verified by ssdf integrity"),
    ]


def test_a_suppression_inside_a_string_is_not_a_comment() -> None:
    source = 'import torch\nDOC = "x  # ssdf: ignore[SSDF-CODE-001]"\ntorch.load(a)\n'
    findings, suppressed = analyze_source(source, "s.py")
    assert [(f.rule_id, f.location.line) for f in findings] == [("SSDF-CODE-001", 3)]
    assert suppressed == []


def test_rule_filter_and_metadata() -> None:
    source = "import torch, yaml\ntorch.load(a)\nyaml.load(b)\n"
    findings, _ = analyze_source(source, "s.py", rules={"SSDF-CODE-005"})
    assert [f.rule_id for f in findings] == ["SSDF-CODE-005"]
    finding = findings[0]
    rule = code_rules.RULES["SSDF-CODE-005"]
    assert finding.cwe == rule.cwe
    assert "PW.5.1" in finding.task_ids
    assert "PW.7.2" in finding.task_ids
    assert finding.remediation == code_rules.REMEDIATION["SSDF-CODE-005"]
    assert set(code_rules.REMEDIATION) == set(code_rules.RULES)


def test_torch_load_confidence() -> None:
    findings, _ = analyze_source(
        "import torch\ntorch.load(a)\ntorch.load(b, weights_only=False)\n", "s.py"
    )
    assert [f.confidence for f in findings] == [Confidence.MEDIUM, Confidence.HIGH]


def test_constant_absolute_path_inside_the_project_is_trusted(tmp_path: Path) -> None:
    inside = tmp_path / "models" / "m.pkl"
    source = f"import pickle\npickle.load(open({str(inside)!r}, 'rb'))\n"
    assert _rules(source, root=tmp_path) == []
    assert _ids(source) == {"SSDF-CODE-002"}  # without a project root it is outside


def test_notebook_cells_magics_and_outputs(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# title\n", "torch.load(x)"]},
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": 1,
            "source": [
                "!pip install torch\n",
                "import torch\n",
                "files = !ls\n",
                "torch.load(files)\n",
            ],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 2,
            "source": ["%%bash\n", "rm -rf /\n"],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": [HF_TOKEN + "\n"]}],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": 3,
            "source": ["def broken(:\n"],
        },
    ]
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(document, indent=1))
    result = analyze_path(tmp_path, path)
    assert (result.files, result.notebooks) == (1, 1)
    by_rule = {f.rule_id: f for f in result.findings}
    assert set(by_rule) == {"SSDF-CODE-001", "SSDF-CODE-010", "SSDF-CODE-011"}
    raw = path.read_text().splitlines()
    assert "torch.load(files)" in raw[(by_rule["SSDF-CODE-001"].location.line or 0) - 1]
    assert by_rule["SSDF-CODE-010"].location.address == "cell 3, output"
    assert HF_TOKEN not in by_rule["SSDF-CODE-010"].message
    assert by_rule["SSDF-CODE-011"].location.address == "cell 4"


def test_neutralise_cell_keeps_lines_aligned() -> None:
    cell = "%matplotlib inline\nx = !ls\nfor a in b:\n    !echo hi\nobj?\nprint(x)"
    out = neutralise_cell(cell)
    assert out.split("\n") == ["pass", "x = None", "for a in b:", "    pass", "pass", "print(x)"]
    assert neutralise_cell("%%html\n<b>x</b>").split("\n") == ["#", "#"]


def test_folder_walk_skips_symlinks_and_limits_size(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.py").write_text("import torch\ntorch.load(x)\n")
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "ok.py").write_text("x = 1\n")
    (project / "src" / "big.py").write_text("x = 1\n" * 5000)
    (project / "src" / "link.py").symlink_to(outside / "evil.py")
    (project / "src" / "linkdir").symlink_to(outside, target_is_directory=True)
    result = analyze_path(project, project / "src", max_source_bytes=10_000)
    assert result.files == 2
    assert [(f.rule_id, f.location.path) for f in result.findings] == [
        ("SSDF-CODE-011", "src/big.py")
    ]
    assert result.not_analysed == 1


def test_hostile_source_is_bounded_in_time(tmp_path: Path) -> None:
    nested = "\n".join(f"x{j} = " + "f(" * 150 + "y" + ")" * 150 for j in range(300))
    (tmp_path / "nested.py").write_text(nested)
    started = time.perf_counter()
    result = analyze_path(tmp_path, tmp_path)
    assert time.perf_counter() - started < 20
    assert result.files == 1
    assert result.findings == []


def test_malformed_notebook_is_reported_not_analysed(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text('{"cells": [')
    (tmp_path / "binary.py").write_bytes(b"\x00\x01import torch\n")
    result = analyze_path(tmp_path, tmp_path)
    assert sorted((f.location.path, f.rule_id) for f in result.findings) == [
        ("bad.ipynb", "SSDF-CODE-011"),
        ("binary.py", "SSDF-CODE-011"),
    ]
    assert (result.files, result.notebooks, result.not_analysed) == (2, 1, 2)
