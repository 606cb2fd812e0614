"""The AST rules behind :mod:`ssdf_ai.code.analyze` (internal).

:class:`ModuleAnalyzer` takes one parsed module and yields :class:`RawHit` objects. It works on
the syntax tree only: nothing scanned is imported or run. Names are resolved through the
module's imports (``import torch as t``; ``from pickle import loads as l``), constants through
module-level assignments, and two kinds of taint are followed through each function in order
(assignments, tuple unpacking, attributes, subscripts, f-strings, concatenation, method calls):
model output (rule 006) and untrusted input (rule 007). A function whose return value is
tainted taints its callers in the same module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ssdf_ai.code import code_rules as rules_
from ssdf_ai.findings import Confidence, Severity

Sanitized = frozenset[str]
Env = dict[str, Sanitized]


@dataclass(frozen=True, slots=True)
class RawHit:
    """A rule match before it becomes a Finding (internal)."""

    rule_id: str
    line: int
    column: int
    message: str
    confidence: Confidence = Confidence.HIGH
    severity: Severity | None = None


# -- name tables ---------------------------------------------------------------------------

TORCH_LOADS = frozenset({"torch.load", "torch.serialization.load"})
PICKLE_LOADS = frozenset(
    f"{module}.{name}"
    for module in ("pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib")
    for name in ("load", "loads", "Unpickler")
) | {
    "pandas.read_pickle",
    "sklearn.externals.joblib.load",
    "torch.serialization._load",
    "shelve.open",
}
NUMPY_LOADS = frozenset({"numpy.load"})
HUB_FUNCTIONS = {
    "huggingface_hub.hf_hub_download": ("repo_id",),
    "huggingface_hub.snapshot_download": ("repo_id",),
    "huggingface_hub.file_download.hf_hub_download": ("repo_id",),
    "datasets.load_dataset": ("path",),
}
# Dataset builders that name a format, not a hub repository.
DATASET_BUILDERS = frozenset(
    {
        "csv",
        "json",
        "parquet",
        "text",
        "arrow",
        "imagefolder",
        "audiofolder",
        "webdataset",
        "pandas",
        "sql",
        "generator",
        "videofolder",
    }
)
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
_MODEL_FILE = re.compile(r"\.(bin|pt|pth|ckpt|safetensors|json|csv|parquet|txt|gguf|onnx)$")
SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
UNSAFE_YAML_CALLS = frozenset({"yaml.unsafe_load", "yaml.unsafe_load_all"})
FULL_YAML_CALLS = frozenset({"yaml.full_load", "yaml.full_load_all"})

CODE_SINKS = frozenset({"eval", "exec", "compile", "builtins.eval", "builtins.exec"})
SHELL_SINKS = frozenset(
    {
        f"subprocess.{n}"
        for n in (
            "run",
            "call",
            "check_call",
            "check_output",
            "Popen",
            "getoutput",
            "getstatusoutput",
        )
    }
    | {
        "os.system",
        "os.popen",
        "os.execl",
        "os.execle",
        "os.execlp",
        "os.execv",
        "os.execve",
        "os.execvp",
        "os.execvpe",
        "os.spawnl",
        "os.spawnv",
        "os.spawnvp",
        "os.startfile",
        "asyncio.create_subprocess_shell",
        "asyncio.create_subprocess_exec",
        "pexpect.spawn",
        "pexpect.run",
        "commands.getoutput",
    }
)
PATH_SINKS = frozenset(
    {
        "open",
        "io.open",
        "os.open",
        "pathlib.Path",
        "pathlib.PurePath",
        "os.remove",
        "os.unlink",
        "os.rmdir",
        "os.removedirs",
        "os.rename",
        "os.replace",
        "os.makedirs",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "shutil.rmtree",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "codecs.open",
    }
)
HTML_SINK_NAMES = frozenset(
    {"Markup", "render_template_string", "mark_safe", "HTMLResponse", "SafeString", "HTML"}
)
SQL_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "exec_driver_sql",
        "read_sql",
        "read_sql_query",
        "raw",
    }
)
SANITIZERS = {
    "html.escape": "html",
    "markupsafe.escape": "html",
    "flask.escape": "html",
    "jinja2.escape": "html",
    "django.utils.html.escape": "html",
    "bleach.clean": "html",
    "cgi.escape": "html",
    "shlex.quote": "shell",
    "pipes.quote": "shell",
    "werkzeug.utils.secure_filename": "path",
    "os.path.basename": "path",
}
# Calls whose result carries none of their argument's content in a dangerous form.
NEUTRAL_CALLS = frozenset({"int", "float", "bool", "len", "hash", "isinstance", "type", "id"})

LLM_PACKAGES = (
    "langchain",
    "langchain_openai",
    "langchain_anthropic",
    "langchain_community",
    "langchain_core",
    "langchain_ollama",
    "langchain_google_genai",
    "langchain_mistralai",
    "langchain_huggingface",
    "llama_index",
)
LLM_CHAINS = (
    "chat.completions.create",
    "completions.create",
    "responses.create",
    "messages.create",
    "ChatCompletion.create",
    "Completion.create",
    "chat.complete",
    "generate_content",
    "messages.stream",
)
LLM_FUNCTIONS = frozenset(
    {
        "litellm.completion",
        "litellm.acompletion",
        "ollama.chat",
        "ollama.generate",
        "openai.ChatCompletion.create",
        "openai.Completion.create",
    }
)
LLM_METHODS = frozenset(
    {
        "invoke",
        "ainvoke",
        "predict",
        "apredict",
        "run",
        "arun",
        "stream",
        "astream",
        "batch",
        "call",
        "complete",
        "chat",
        "query",
        "generate_text",
        "__call__",
    }
)
_LLM_RECEIVER = re.compile(
    r"(?i)(llm|chain|chat|agent|gpt|claude|gemini|lm$|^lm|qa|rag|bot|"
    r"assistant|engine|model)"
)
_TOKENIZER = re.compile(r"(?i)(tok|processor)")
USER_ATTRS = frozenset(
    {
        "args",
        "form",
        "json",
        "values",
        "data",
        "get_json",
        "files",
        "cookies",
        "query_params",
        "path_params",
        "GET",
        "POST",
        "body",
    }
)
ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "delete", "patch", "websocket", "api_route"}
)
_SYSTEM_NAME = re.compile(
    r"(?i)(system_?(prompt|message|msg|instruction)s?|sys_?prompt|system_?template)"
)
SYSTEM_KEYWORDS = frozenset({"system", "system_prompt", "system_message", "instructions"})

REPL_TOOLS = frozenset(
    {
        "PythonREPLTool",
        "PythonREPL",
        "PythonAstREPLTool",
        "ShellTool",
        "BashProcess",
        "LocalPythonExecutor",
        "LocalCommandLineCodeExecutor",
        "PythonCodeExecutor",
    }
)
DANGEROUS_TOOL_NAMES = frozenset({"python_repl", "terminal", "shell", "bash", "python"})
TOOL_DECORATORS = frozenset(
    {
        "tool",
        "function_tool",
        "kernel_function",
        "register_for_llm",
        "register_for_execution",
        "register_tool",
    }
)
TOOL_REGISTRARS = frozenset(
    {
        "Tool",
        "StructuredTool",
        "from_function",
        "from_defaults",
        "FunctionTool",
        "register_function",
    }
)
SANDBOXED_EXECUTORS = frozenset({"docker", "e2b", "modal", "wasm", "blaxel"})

HTTP_ROOTS = frozenset({"requests", "httpx", "aiohttp", "urllib3"})
HTTP_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "request",
        "stream",
        "send",
        "Client",
        "AsyncClient",
        "ws_connect",
        "TCPConnector",
        "urlopen",
    }
)
CA_BUNDLE_VARS = frozenset({"CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"})

_SECRET_NAME = re.compile(
    r"(?i)(api_?key|apikey|secret|token|passw(or)?d|passwd|pwd|access_?key|private_?key|"
    r"credential|bearer|auth_?key)"
)
_NOT_SECRET_NAME = re.compile(r"(?i)(tokenizer|max_|num_|_tokens?_(id|count|len)|_url$|_path$)")
PLACEHOLDERS = re.compile(
    r"(?i)^(|changeme|change_me|your[_-]?.*|xxx+|\*+|<.*>|\{.*\}|\$\{?[A-Z_]+\}?|todo|none|null|"
    r"placeholder|example.*|dummy|test|secret|password|token)$"
)


def _last(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1].lstrip("$")


def _const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _kw(call: ast.Call, *names: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return None


def _has_kw(call: ast.Call, name: str) -> bool:
    return any(k.arg == name for k in call.keywords)


def _arg(call: ast.Call, index: int, *names: str) -> ast.expr | None:
    found = _kw(call, *names)
    if found is not None:
        return found
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    return positional[index] if index < len(positional) else None


def _target_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)
    elif isinstance(target, ast.Attribute | ast.Subscript):
        key = _raw_dotted(target)
        if key:
            yield key


def _raw_dotted(node: ast.AST) -> str | None:
    """``self.x``, ``a.b.c`` or ``a["k"]`` as written (no alias resolution), for taint keys."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _raw_dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Subscript):
        inner = _raw_dotted(node.value)
        key = node.slice
        if inner and isinstance(key, ast.Constant) and isinstance(key.value, str | int):
            return f"{inner}[{key.value!r}]"
    return None


def _is_html_template(node: ast.AST) -> bool:
    """Whether ``node`` builds a string around a literal that holds an HTML tag."""
    if not isinstance(node, ast.JoinedStr | ast.BinOp | ast.Call):
        return False
    return any(
        isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and re.search(r"<[a-zA-Z/]", n.value)
        for n in ast.walk(node)
    )


def _is_built_string(node: ast.AST) -> bool:
    """An f-string, a concatenation, ``%`` formatting or a ``.format`` / ``.join`` call."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"format", "join", "replace", "format_map"}
    )


class ModuleAnalyzer:
    """Runs every rule over one parsed module.

    Args:
        tree: The parsed module.
        root_parts: The parts of the project root's absolute path, for deciding whether a
            constant absolute path lies inside it.
        secret_scan: Scans a string for secrets; returns ``(line offset, kind, redacted
            preview, confidence)`` for each (``None``: no secret rule).
        looks_random: Whether a string looks like a random token (``None``: no name rule).
        redact: A preview of a value that never shows all of it.
    """

    def __init__(
        self,
        tree: ast.Module,
        *,
        root_parts: tuple[str, ...] = (),
        secret_scan: Callable[[str], list[tuple[int, str, str, str]]] | None = None,
        looks_random: Callable[[str], bool] | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.tree = tree
        self.root_parts = root_parts
        self.secret_scan = secret_scan
        self.looks_random = looks_random
        self.redact = redact or (lambda v: v[:4] + "…")
        self.hits: list[RawHit] = []
        self.aliases: dict[str, str] = {}
        self.local_defs: set[str] = set()
        self.constants: dict[str, str] = {}
        self.llm_vars: set[str] = set()
        self.pipeline_vars: set[str] = set()
        self.returns: dict[str, set[str]] = {"model": set(), "user": set()}
        # ``self.x`` attributes tainted in any method taint every method of the module.
        self.self_attrs: dict[str, set[str]] = {"model": set(), "user": set()}
        self.assigned: set[str] = set()
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self._collecting = False
        self._seen: set[tuple[str, int, int]] = set()
        self.nodes: list[ast.AST] = []

    # -- setup ---------------------------------------------------------------------------

    def _index(self) -> None:
        assigned: dict[str, list[ast.expr]] = {}
        self.nodes = list(ast.walk(self.tree))
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        self.aliases[head] = head
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.local_defs.add(node.name)
                if not isinstance(node, ast.ClassDef):
                    self.functions.setdefault(node.name, node)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in _target_names(target):
                        assigned.setdefault(name, []).append(node.value)
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if item.optional_vars is not None:
                        for name in _target_names(item.optional_vars):
                            assigned.setdefault(name, []).append(item.context_expr)
        self.assigned = set(assigned)
        # A name resolves to a constant only when every assignment gives the same one.
        for name, values in assigned.items():
            found = {self.const_path(v, depth=1) for v in values}
            if len(found) == 1 and None not in found:
                self.constants[name] = found.pop()  # type: ignore[assignment]
        for _ in range(2):  # chains built from LLMs (prompt | llm) need a second look
            for name, values in assigned.items():
                for value in values:
                    if self._is_llm_constructor(value):
                        self.llm_vars.add(name)
                    if isinstance(value, ast.Call) and self.qualname(value.func) in {
                        "transformers.pipeline",
                        "transformers.pipelines.pipeline",
                    }:
                        self.pipeline_vars.add(name)

    def _is_llm_constructor(self, value: ast.expr) -> bool:
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
            return (
                any(
                    isinstance(side, ast.Name) and side.id in self.llm_vars
                    for side in (value.left, value.right)
                )
                or self._is_llm_constructor(value.left)
                or self._is_llm_constructor(value.right)
            )
        if not isinstance(value, ast.Call):
            return False
        name = self.qualname(value.func) or ""
        return name.split(".")[0] in LLM_PACKAGES or _last(name).startswith("Chat")

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted name of ``node`` with its head resolved through the imports."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            head = node.id
            if head in self.aliases:
                parts.append(self.aliases[head])
            elif head in self.assigned:
                # A variable, not a module: ``yaml = YAML(typ="safe")`` is not PyYAML.
                parts.append("$" + head)
            else:
                parts.append(head)
        elif isinstance(node, ast.Call):
            inner = self.qualname(node.func)
            if inner is None:
                return None
            parts.append(inner + "()")
        else:
            return None
        return ".".join(reversed(parts))

    def _builtin(self, call: ast.Call, names: frozenset[str]) -> str | None:
        name = self.qualname(call.func)
        if name in names and not (
            isinstance(call.func, ast.Name) and call.func.id in self.local_defs
        ):
            return name
        return None

    def const_path(self, node: ast.AST | None, depth: int = 0) -> str | None:
        """The constant string (or path) ``node`` evaluates to, when it is one."""
        if node is None or depth > 8:
            return None
        value = _const_str(node)
        if value is not None:
            return value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if isinstance(node, ast.Call):
            name = self.qualname(node.func)
            if name in {"open", "io.open", "pathlib.Path", "os.path.join", "os.fspath", "str"}:
                parts = [self.const_path(a, depth + 1) for a in node.args[:8]]
                if not parts or None in parts:
                    return None
                if name == "os.path.join" or name == "pathlib.Path":
                    return str(PurePosixPath(*parts))  # type: ignore[arg-type]
                return parts[0]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left = self.const_path(node.left, depth + 1)
            right = self.const_path(node.right, depth + 1)
            if left is not None and right is not None:
                return str(PurePosixPath(left, right))
        return None

    def _inside_project(self, value: str) -> bool:
        path = PurePosixPath(value)
        if path.is_absolute():
            parts = path.parts[1:]
            return bool(self.root_parts) and parts[: len(self.root_parts)] == self.root_parts
        if value.startswith("~"):
            return False
        return ".." not in path.parts and "://" not in value

    # -- driver --------------------------------------------------------------------------

    def run(self) -> list[RawHit]:
        """Run every rule; return the hits in source order."""
        self._index()
        self._collecting = True
        self._flow()
        self._collecting = False
        self._tool_functions()
        for node in self.nodes:
            if isinstance(node, ast.Call):
                self._call_rules(node)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                self._assign_rules(node)
            elif isinstance(node, ast.Attribute):
                self._attribute_rules(node)
            elif isinstance(node, ast.Dict):
                self._dict_secret_rules(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self._constant_secret(node)
        return sorted(self.hits, key=lambda h: (h.line, h.column, h.rule_id))

    def _hit(
        self,
        rule_id: str,
        node: ast.AST | _At,
        message: str,
        confidence: Confidence = Confidence.HIGH,
        severity: Severity | None = None,
    ) -> None:
        if self._collecting:
            return
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", 0) + 1
        key = (rule_id, line, column)
        if key in self._seen:
            return
        self._seen.add(key)
        self.hits.append(RawHit(rule_id, line, column, message, confidence, severity))

    # -- rules on single calls -----------------------------------------------------------

    def _call_rules(self, call: ast.Call) -> None:
        name = self.qualname(call.func) or ""
        last = _last(name)
        if name in TORCH_LOADS:
            self._torch_load(call)
        elif name in PICKLE_LOADS:
            self._pickle_load(call, name)
        elif name in NUMPY_LOADS and _is_true(_kw(call, "allow_pickle")):
            self._pickle_load(call, "numpy.load(allow_pickle=True)")
        if _is_true(_kw(call, "trust_remote_code")):
            self._hit(
                rules_.TRUST_REMOTE_CODE,
                call,
                f"{name.lstrip('$') or 'call'}(trust_remote_code=True) runs "
                "code shipped with the model or dataset",
            )
        self._hub_download(call, name, last)
        if name.startswith("yaml.") or name in {"ruamel.yaml.load"}:
            self._yaml(call, name)
        self._agent_tools(call, name, last)
        self._tls_call(call, name, last)
        for keyword in call.keywords:
            if keyword.arg and isinstance(keyword.value, ast.Constant):
                self._named_secret(keyword.arg, keyword.value)

    def _torch_load(self, call: ast.Call) -> None:
        weights_only = _kw(call, "weights_only")
        if _is_true(weights_only):
            return
        if _is_false(weights_only):
            self._hit(
                rules_.TORCH_LOAD,
                call,
                "torch.load(weights_only=False) unpickles the "
                "checkpoint and runs any code it holds",
            )
        elif weights_only is None:
            self._hit(
                rules_.TORCH_LOAD,
                call,
                "torch.load without weights_only=True unpickles the "
                "checkpoint (PyTorch before 2.6 defaults to weights_only=False)",
                Confidence.MEDIUM,
            )
        else:
            self._hit(
                rules_.TORCH_LOAD,
                call,
                "torch.load with a weights_only value that is not the constant True",
                Confidence.LOW,
            )

    def _pickle_load(self, call: ast.Call, name: str) -> None:
        source = _arg(call, 0, "file", "filepath_or_buffer", "filename", "fp", "path")
        path = self.const_path(source)
        if path is not None and not name.endswith("loads") and self._inside_project(path):
            return
        if isinstance(source, ast.Call) and _last(self.qualname(source.func)) == "dumps":
            return  # pickle.loads(pickle.dumps(obj)): a deep copy of the program's own object
        what = (
            f"the constant path {path!r} outside the project"
            if path
            else "data that is not a constant path inside the project"
        )
        self._hit(
            rules_.UNSAFE_DESERIALIZATION,
            call,
            f"{name} deserializes {what}; unpickling untrusted data runs code",
        )

    def _hub_download(self, call: ast.Call, name: str, last: str) -> None:
        if last == "from_pretrained" and isinstance(call.func, ast.Attribute):
            repo = _arg(call, 0, "pretrained_model_name_or_path", "model_id", "repo_id")
            what = f"{_last(self.qualname(call.func.value) or '')}.from_pretrained"
        elif name in HUB_FUNCTIONS or last in {"hf_hub_download", "snapshot_download"}:
            repo = _arg(call, 0, *HUB_FUNCTIONS.get(name, ("repo_id",)))
            what = last
        elif name == "datasets.load_dataset" or (last == "load_dataset" and name == last):
            repo = _arg(call, 0, "path")
            what = last
        elif name in {"transformers.pipeline", "transformers.pipelines.pipeline"}:
            repo = _arg(call, 1, "model")
            what = "pipeline"
        else:
            return
        repo_id = self.const_path(repo)
        if repo_id is None:
            return  # a model chosen at run time: not known to be a hub id
        if (
            not _HUB_ID.match(repo_id)
            or repo_id.lower() in DATASET_BUILDERS
            or _MODEL_FILE.search(repo_id)
        ):
            return
        revision = _kw(call, "revision")
        if revision is None:
            self._hit(
                rules_.UNPINNED_DOWNLOAD,
                call,
                f"{what}({repo_id!r}) without revision= downloads whatever the hub serves today",
            )
            return
        pinned = self.const_path(revision)
        if pinned is None:
            return  # a revision from configuration
        if not _HEX40.match(pinned):
            self._hit(
                rules_.UNPINNED_DOWNLOAD,
                call,
                f"{what}({repo_id!r}) pins revision="
                f"{pinned!r}, a branch or tag that can move, not a commit",
            )

    def _yaml(self, call: ast.Call, name: str) -> None:
        if name in UNSAFE_YAML_CALLS:
            self._hit(rules_.UNSAFE_YAML, call, f"{name} builds arbitrary Python objects")
        elif name in FULL_YAML_CALLS:
            self._hit(
                rules_.UNSAFE_YAML,
                call,
                f"{name} uses FullLoader, which can still build some Python objects",
                severity=Severity.MEDIUM,
            )
        elif name in {"yaml.load", "yaml.load_all"}:
            loader = _arg(call, 1, "Loader")
            loader_name = _last(self.qualname(loader) if loader is not None else None)
            if loader is None:
                self._hit(
                    rules_.UNSAFE_YAML,
                    call,
                    f"{name} without a safe Loader (PyYAML before 5.1 defaults to the unsafe one)",
                )
            elif loader_name in SAFE_YAML_LOADERS:
                return
            elif loader_name in {"FullLoader", "CFullLoader"}:
                self._hit(
                    rules_.UNSAFE_YAML,
                    call,
                    f"{name}(Loader={loader_name}) can still build some Python objects",
                    severity=Severity.MEDIUM,
                )
            elif loader_name in {"Loader", "UnsafeLoader", "CLoader", "CUnsafeLoader"}:
                self._hit(
                    rules_.UNSAFE_YAML,
                    call,
                    f"{name}(Loader={loader_name}) builds arbitrary Python objects",
                )
            else:
                self._hit(
                    rules_.UNSAFE_YAML,
                    call,
                    f"{name} with a Loader not known to be safe",
                    Confidence.LOW,
                )

    def _agent_tools(self, call: ast.Call, name: str, last: str) -> None:
        if last in REPL_TOOLS:
            self._hit(
                rules_.AGENT_CODE_EXECUTION,
                call,
                f"{last} runs code or shell commands on the host for the agent",
            )
        elif last == "load_tools":
            names = _arg(call, 0, "tool_names")
            if isinstance(names, ast.List | ast.Tuple | ast.Set):
                bad = sorted(
                    v
                    for v in (_const_str(e) for e in names.elts)
                    if v is not None and v in DANGEROUS_TOOL_NAMES
                )
                if bad:
                    self._hit(
                        rules_.AGENT_CODE_EXECUTION,
                        call,
                        f"load_tools gives the agent {', '.join(bad)}, which run code on the host",
                    )
        elif last == "CodeAgent":
            executor = self.const_path(_kw(call, "executor_type"))
            if executor not in SANDBOXED_EXECUTORS:
                self._hit(
                    rules_.AGENT_CODE_EXECUTION,
                    call,
                    "smolagents CodeAgent runs the model's Python in a local executor",
                    Confidence.MEDIUM,
                )
        for flag in ("allow_dangerous_code", "allow_dangerous_requests"):
            if _is_true(_kw(call, flag)):
                self._hit(
                    rules_.AGENT_CODE_EXECUTION,
                    call,
                    f"{flag}=True lets the chain run code or requests the model chooses",
                )
        config = _kw(call, "code_execution_config")
        if isinstance(config, ast.Dict):
            for key, value in zip(config.keys, config.values, strict=True):
                if _const_str(key) == "use_docker" and _is_false(value):
                    self._hit(
                        rules_.AGENT_CODE_EXECUTION,
                        call,
                        "code_execution_config with "
                        "use_docker=False runs the agents' code on the host",
                    )
                if _const_str(key) == "executor" and isinstance(value, ast.Call):
                    executor_name = _last(self.qualname(value.func))
                    if executor_name.startswith("Local"):
                        self._hit(
                            rules_.AGENT_CODE_EXECUTION,
                            call,
                            f"code_execution_config uses "
                            f"{executor_name}, which runs the agents' code on the host",
                        )

    def _tool_functions(self) -> None:
        registered: set[str] = set()
        for node in self.nodes:
            if isinstance(node, ast.Call) and _last(self.qualname(node.func)) in TOOL_REGISTRARS:
                for value in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(value, ast.Name):
                        registered.add(value.id)
        for function in self.functions.values():
            decorated = any(
                _last(self.qualname(d.func if isinstance(d, ast.Call) else d)) in TOOL_DECORATORS
                for d in function.decorator_list
            )
            if not decorated and function.name not in registered:
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                sink = self._builtin(node, CODE_SINKS - {"compile"}) or (
                    self.qualname(node.func) if self.qualname(node.func) in SHELL_SINKS else None
                )
                if sink:
                    self._hit(
                        rules_.AGENT_CODE_EXECUTION,
                        function,
                        f"agent tool {function.name!r} "
                        f"calls {sink}: the model decides what runs on the host",
                    )
                    break

    def _tls_call(self, call: ast.Call, name: str, last: str) -> None:
        root = name.split(".")[0]
        http = root in HTTP_ROOTS or (isinstance(call.func, ast.Attribute) and last in HTTP_METHODS)
        if http and _is_false(_kw(call, "verify")):
            self._hit(
                rules_.TLS_DISABLED,
                call,
                f"{name.lstrip('$') or last}(verify=False) turns off certificate verification",
            )
        if (root == "aiohttp" or last in HTTP_METHODS) and _is_false(
            _kw(call, "ssl", "verify_ssl")
        ):
            self._hit(
                rules_.TLS_DISABLED,
                call,
                f"{name.lstrip('$') or last}(ssl=False) turns off certificate verification",
            )
        if _const_str(_kw(call, "cert_reqs")) in {"CERT_NONE", "none"}:
            self._hit(
                rules_.TLS_DISABLED,
                call,
                "cert_reqs='CERT_NONE' turns off certificate verification",
            )
        if (
            last == "disable_warnings"
            and "urllib3" in name
            and (
                any("InsecureRequestWarning" in (self.qualname(a) or "") for a in call.args)
                or not call.args
            )
        ):
            self._hit(
                rules_.TLS_DISABLED,
                call,
                "urllib3.disable_warnings hides the warning about unverified HTTPS requests",
                Confidence.MEDIUM,
                Severity.LOW,
            )
        if name in {"os.environ.setdefault", "os.environ.update", "os.putenv"}:
            self._env_calls(call, name)

    def _env_calls(self, call: ast.Call, name: str) -> None:
        pairs: list[tuple[ast.expr | None, ast.expr | None]] = []
        if name == "os.environ.update":
            for arg in call.args:
                if isinstance(arg, ast.Dict):
                    pairs.extend(zip(arg.keys, arg.values, strict=True))
            pairs.extend((ast.Constant(k.arg), k.value) for k in call.keywords if k.arg)
        elif len(call.args) >= 2:
            pairs.append((call.args[0], call.args[1]))
        for key, value in pairs:
            if _const_str(key) in CA_BUNDLE_VARS and _const_str(value) == "":
                self._hit(
                    rules_.TLS_DISABLED,
                    call,
                    f"setting {_const_str(key)} to '' turns off "
                    "certificate verification in requests and huggingface_hub",
                )

    def _attribute_rules(self, node: ast.Attribute) -> None:
        name = self.qualname(node) or ""
        if name in {"ssl._create_unverified_context", "ssl.CERT_NONE"} and isinstance(
            node.ctx, ast.Load
        ):
            self._hit(rules_.TLS_DISABLED, node, f"{name} turns off certificate verification")

    def _assign_rules(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        for target in targets:
            if isinstance(target, ast.Attribute):
                if target.attr in {"verify", "check_hostname"} and _is_false(value):
                    self._hit(
                        rules_.TLS_DISABLED,
                        node,
                        f"{target.attr} = False turns off certificate verification",
                    )
                if target.attr == "verify_mode" and (
                    (self.qualname(value) if value else None) or ""
                ).endswith("CERT_NONE"):
                    self._hit(
                        rules_.TLS_DISABLED,
                        node,
                        "verify_mode = CERT_NONE turns off certificate verification",
                    )
            if isinstance(target, ast.Subscript) and self.qualname(target.value) == "os.environ":
                key = _const_str(target.slice)
                if key in CA_BUNDLE_VARS and _const_str(value) == "":
                    self._hit(
                        rules_.TLS_DISABLED,
                        node,
                        f"os.environ[{key!r}] = '' turns off "
                        "certificate verification in requests and huggingface_hub",
                    )
            if isinstance(value, ast.Constant):
                name = (
                    target.attr
                    if isinstance(target, ast.Attribute)
                    else (target.id if isinstance(target, ast.Name) else None)
                )
                if name:
                    self._named_secret(name, value)

    # -- secrets -------------------------------------------------------------------------

    def _constant_secret(self, node: ast.Constant) -> None:
        value = node.value
        if self.secret_scan is None or not isinstance(value, str) or len(value) < 8:
            return
        for offset, kind, preview, confidence in self.secret_scan(value):
            if confidence == "low":
                continue
            line = node.lineno + offset
            self._hit(
                rules_.HARDCODED_SECRET,
                _At(line, node.col_offset),
                f"hard-coded {kind} ({preview})",
                Confidence(confidence),
            )

    def _dict_secret_rules(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            name = _const_str(key)
            if name and isinstance(value, ast.Constant):
                self._named_secret(name, value)

    def _named_secret(self, name: str, value: ast.Constant) -> None:
        text = value.value
        if (
            not isinstance(text, str)
            or self.looks_random is None
            or not _SECRET_NAME.search(name)
            or _NOT_SECRET_NAME.search(name)
            or PLACEHOLDERS.match(text.strip())
            or not self.looks_random(text)
        ):
            return
        if self.secret_scan is not None and any(c != "low" for *_, c in self.secret_scan(text)):
            return  # reported by the detector with its kind
        self._hit(
            rules_.HARDCODED_SECRET,
            value,
            f"{name} is assigned a literal that looks like a credential ({self.redact(text)})",
            Confidence.MEDIUM,
        )

    # -- taint ---------------------------------------------------------------------------

    def _has_source(self, label: str) -> bool:
        for node in self.nodes:
            if isinstance(node, ast.Call | ast.Attribute) and self.is_source(node, label):
                return True
            if (
                label == "user"
                and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and _Flow(self, label).is_route(node)
            ):
                return True
        return False

    def _flow(self) -> None:
        for label in ("model", "user"):
            if not self._has_source(label):
                continue  # nothing to follow: skip the walks
            # A first pass finds functions and ``self`` attributes that return or hold taint;
            # a second follows them through one another; the last reports. A module with no
            # source of this taint at all is done after the first.
            flow = _Flow(self, label)
            flow.block(self.tree.body, {}, function=None)
            if not flow.seen:
                continue
            if self.returns[label] or self.self_attrs[label]:
                _Flow(self, label).block(self.tree.body, {}, function=None)
            self._collecting = False
            _Flow(self, label).block(self.tree.body, {}, function=None)
            self._collecting = True

    def is_source(self, node: ast.AST, label: str) -> bool:
        """Whether ``node`` produces model output (``model``) or untrusted input (``user``)."""
        if label == "user":
            return self._user_source(node)
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        name = self.qualname(func) or ""
        if name in LLM_FUNCTIONS or (
            name.startswith("ollama.") and _last(name) in {"chat", "generate"}
        ):
            return True
        if isinstance(func, ast.Name):
            return func.id in self.pipeline_vars or func.id in self.returns["model"]
        if isinstance(func, ast.Call):
            return self.qualname(func.func) in {"transformers.pipeline"}
        if not isinstance(func, ast.Attribute):
            return False
        if any(name.endswith("." + chain) or name == chain for chain in LLM_CHAINS):
            return True
        receiver = _raw_dotted(func.value) or ""
        receiver_last = receiver.rsplit(".", 1)[-1]
        head = receiver.split(".")[0]
        if head in self.aliases:  # a module function such as json.loads
            return False
        if receiver == "self" and func.attr in self.returns["model"]:
            return True
        if func.attr == "generate":
            return True
        if func.attr in {"decode", "batch_decode"}:
            return bool(_TOKENIZER.search(receiver_last))
        if func.attr in LLM_METHODS:
            return receiver in self.llm_vars or bool(_LLM_RECEIVER.search(receiver_last))
        return False

    def _user_source(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                if node.func.id == "input" and "input" not in self.local_defs:
                    return True
                return node.func.id in self.returns["user"]
            if isinstance(node.func, ast.Attribute) and node.func.attr in self.returns["user"]:
                return _raw_dotted(node.func.value) == "self"
            return False
        if isinstance(node, ast.Attribute):
            name = self.qualname(node) or ""
            if name == "sys.argv":
                return True
            base = _raw_dotted(node.value) or ""
            return node.attr in USER_ATTRS and base.rsplit(".", 1)[-1] in {"request", "req"}
        return False


@dataclass(frozen=True, slots=True)
class _At:
    lineno: int
    col_offset: int


class _Flow:
    """Follows one kind of taint through a block of statements, in order."""

    def __init__(self, analyzer: ModuleAnalyzer, label: str) -> None:
        self.a = analyzer
        self.label = label
        self.memo: dict[int, Sanitized | None] = {}
        self.seen = False  # whether any taint was found at all

    # The taint of an expression: None when clean, else the sinks it was sanitised for.
    # Memoised per statement (the environment only changes between statements), so nested
    # expressions are walked once, not once per enclosing call.
    def taint(self, node: ast.AST | None, env: Env) -> Sanitized | None:
        if node is None or isinstance(node, ast.Constant | ast.Compare | ast.Lambda):
            return None
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        found = self._taint(node, env)
        self.memo[key] = found
        if found is not None:
            self.seen = True
        return found

    def _taint(self, node: ast.AST, env: Env) -> Sanitized | None:
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if isinstance(node, ast.Attribute | ast.Subscript):
            key = _raw_dotted(node)
            if key is not None and key in env:
                return env[key]
            if key is not None and key in self.a.self_attrs[self.label]:
                return frozenset()
        if self.a.is_source(node, self.label):
            return frozenset()
        if isinstance(node, ast.Call):
            name = self.a.qualname(node.func) or ""
            if name in NEUTRAL_CALLS or name == "ast.literal_eval":
                return None
            kind = SANITIZERS.get(name)
            if kind is not None:
                inner = self._join([*node.args, *(k.value for k in node.keywords)], env)
                return None if inner is None else inner | {kind}
        return self._join(list(ast.iter_child_nodes(node)), env)

    def _join(self, children: list[ast.AST], env: Env) -> Sanitized | None:
        result: Sanitized | None = None
        for child in children:
            found = self.taint(child, env)
            if found is not None:
                result = found if result is None else result & found
        return result

    def block(
        self,
        body: list[ast.stmt],
        env: Env,
        function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    ) -> None:
        for stmt in body:
            self.statement(stmt, env, function)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: Env) -> None:
        env = dict(outer)
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        for param in params:
            env.pop(param.arg, None)
        if self.label == "user" and self.is_route(node):
            for param in params:
                if param.arg not in {"self", "cls", "db", "session"}:
                    env[param.arg] = frozenset()
        self.block(node.body, env, node)

    def is_route(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        for decorator in node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(func, ast.Attribute) and func.attr in ROUTE_DECORATORS:
                return True
        return False

    def statement(
        self,
        stmt: ast.stmt,
        env: Env,
        function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    ) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self.function(stmt, env)
            return
        if isinstance(stmt, ast.ClassDef):
            self.block(stmt.body, dict(env), None)
            return
        self.memo.clear()
        for expr in _expressions(stmt):
            self.sinks(expr, env)
        if isinstance(stmt, ast.Assign):
            found = self.taint(stmt.value, env)
            for target in stmt.targets:
                self._assign(target, found, env)
                self._system_name(target, stmt.value, found)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            found = self.taint(stmt.value, env)
            self._assign(stmt.target, found, env)
            self._system_name(stmt.target, stmt.value, found)
        elif isinstance(stmt, ast.AugAssign):
            found = self.taint(stmt.value, env)
            key = _raw_dotted(stmt.target)
            if key and found is not None:
                old = env.get(key)
                env[key] = found if old is None else old & found
            if key and _SYSTEM_NAME.search(key.rsplit(".", 1)[-1]) and found is not None:
                self.system_hit(stmt, f"{key} += untrusted input")
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            self._assign(stmt.target, self.taint(stmt.iter, env), env)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self._assign(item.optional_vars, self.taint(item.context_expr, env), env)
        elif isinstance(stmt, ast.Return) and stmt.value is not None:
            found = self.taint(stmt.value, env)
            if found is not None and function is not None:
                self.a.returns[self.label].add(function.name)
            if (
                self.label == "model"
                and found is not None
                and "html" not in found
                and _is_html_template(stmt.value)
            ):
                self.a._hit(
                    rules_.MODEL_OUTPUT_SINK,
                    stmt,
                    "model output is returned inside an "
                    "HTML string without escaping (cross-site scripting)",
                )
        self.memo.clear()
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                self.block(inner, env, function)
        for handler in getattr(stmt, "handlers", []):
            self.block(handler.body, env, function)
        for case in getattr(stmt, "cases", []):
            self.block(case.body, env, function)

    def _assign(self, target: ast.AST, found: Sanitized | None, env: Env) -> None:
        for name in _target_names(target):
            if found is None:
                env.pop(name, None)
            else:
                env[name] = found
                if name.startswith("self.") and not found:
                    self.a.self_attrs[self.label].add(name)

    # -- sinks ---------------------------------------------------------------------------

    def sinks(self, expr: ast.AST, env: Env) -> None:
        for node in ast.walk(expr):
            if self.label == "model" and isinstance(node, ast.Call):
                self._model_sink(node, env)
            elif self.label == "user":
                if isinstance(node, ast.Call):
                    self._system_call(node, env)
                elif isinstance(node, ast.Dict):
                    self._system_dict(node, env)
                elif (
                    isinstance(node, ast.Tuple)
                    and len(node.elts) == 2
                    and _const_str(node.elts[0]) == "system"
                    and self.taint(node.elts[1], env) is not None
                ):
                    self.system_hit(node, "a ('system', ...) message template")

    def _dirty(self, node: ast.AST | None, env: Env, kind: str) -> bool:
        found = self.taint(node, env)
        return found is not None and kind not in found

    def _model_sink(self, call: ast.Call, env: Env) -> None:
        a = self.a
        name = a.qualname(call.func) or ""
        args: list[ast.AST] = [*call.args, *(k.value for k in call.keywords)]
        message = None
        if a._builtin(call, CODE_SINKS) and self._dirty(_arg(call, 0, "source"), env, "code"):
            message = f"model output is passed to {name} (code injection)"
        elif name in SHELL_SINKS and any(self._dirty(x, env, "shell") for x in args):
            message = f"model output reaches {name} (command injection)"
        elif (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in SQL_METHODS
            and self._dirty(_arg(call, 0, "sql", "statement", "query"), env, "sql")
        ):
            message = f"model output is built into the SQL of {call.func.attr}() (SQL injection)"
        elif a._builtin(call, PATH_SINKS) and self._dirty(_arg(call, 0), env, "path"):
            message = f"model output is used as a file path in {name} (path traversal)"
        elif _last(name) in HTML_SINK_NAMES and any(self._dirty(x, env, "html") for x in args):
            message = (
                f"model output is marked safe as HTML by {_last(name)} without escaping "
                "(cross-site scripting)"
            )
        if message:
            a._hit(rules_.MODEL_OUTPUT_SINK, call, message)

    def system_hit(self, node: ast.AST, what: str) -> None:
        self.a._hit(
            rules_.SYSTEM_PROMPT_INJECTION,
            node,
            f"untrusted input is built into the system prompt ({what})",
        )

    def _system_call(self, call: ast.Call, env: Env) -> None:
        last = _last(self.a.qualname(call.func))
        if (
            last in {"SystemMessage", "SystemMessagePromptTemplate"}
            and self.taint(_arg(call, 0, "content", "template"), env) is not None
        ):
            self.system_hit(call, last)
        for keyword in call.keywords:
            if keyword.arg in SYSTEM_KEYWORDS and self.taint(keyword.value, env) is not None:
                self.system_hit(call, f"{keyword.arg}=")

    def _system_dict(self, node: ast.Dict, env: Env) -> None:
        items = {_const_str(k): v for k, v in zip(node.keys, node.values, strict=True) if k}
        if (
            _const_str(items.get("role")) == "system"
            and self.taint(items.get("content"), env) is not None
        ):
            self.system_hit(node, "a message with role 'system'")

    def _system_name(self, target: ast.AST, value: ast.expr, found: Sanitized | None) -> None:
        if self.label != "user" or found is None or not _is_built_string(value):
            return
        for name in _target_names(target):
            if _SYSTEM_NAME.search(name.rsplit(".", 1)[-1]):
                self.system_hit(value, name)


def _expressions(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The expressions a statement evaluates itself (not those of nested statements)."""
    for _, value in ast.iter_fields(stmt):
        if isinstance(value, ast.expr):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.expr):
                    yield item
                elif isinstance(item, ast.withitem):
                    yield item.context_expr
