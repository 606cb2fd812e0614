"""One regression test per known way of hiding a dangerous global from a pickle scanner.

Every payload is built by code (the assembler in ``pickle_payloads`` or ``pickle.dumps`` of an
object whose ``__reduce__`` returns a dangerous callable) and is never loaded. Each test asserts
a critical SSDF-SCAN-001 finding naming the right target, and links the advisory or write-up
of the bypass where one is known.
"""

from __future__ import annotations

import cProfile
import functools
import operator
import os
import pickle
import runpy
import subprocess
import timeit

import pytest
from pickle_payloads import Asm, critical, dumps_reduce, findings_for, uses

from ssdf_ai.scan.pickle import analyze


def _os_system_call(asm: Asm) -> Asm:
    return asm.stack_global("os", "system").call1("id")


# -- memo and stack confusion ---------------------------------------------------------------


# https://github.com/mmaitre314/picklescan/issues/14 (memo dict confusion: PUT vs MEMOIZE)
def test_memo_put_and_memoize_confusion() -> None:
    data = (
        Asm()
        .proto(4)
        .binstring("os")
        .binput(0)
        .binstring("system")
        .binput(1)
        .binstring("torch._utils")
        .memoize()  # memo[2]: MEMOIZE uses len(memo), not a counter of its own
        .binstring("_rebuild_tensor_v2")
        .memoize()  # memo[3]
        .op("POP", "POP", "POP", "POP")
        .binget(0)
        .binget(1)
        .op("STACK_GLOBAL")
        .call1("id")
        .stop()
        .build()
    )
    critical(data, "os.system")


# https://github.com/mmaitre314/picklescan/issues/22 (STACK_GLOBAL operands taken from memo)
def test_memo_overwrite_and_dup_shuffle_feed_stack_global() -> None:
    data = (
        Asm()
        .proto(4)
        .su("collections")
        .memoize()  # memo[0] = "collections"
        .su("OrderedDict")
        .memoize()  # memo[1] = "OrderedDict"
        .su("os")
        .binput(0)  # memo[0] overwritten: "os"
        .su("system")
        .op("DUP")
        .binput(1)  # memo[1] overwritten: "system"
        .op("POP", "POP", "POP", "POP", "POP")
        .binget(0)
        .binget(1)
        .op("DUP", "POP", "STACK_GLOBAL")
        .call1("id")
        .stop()
        .build()
    )
    critical(data, "os.system")
    assert uses(analyze(data)) == {"os.system": True}


@pytest.mark.parametrize(
    "push",
    [
        Asm.string,
        Asm.binstring,
        Asm.short_binstring,
        Asm.unicode,
        Asm.binunicode,
        Asm.binunicode8,
        Asm.su,
    ],
    ids=lambda f: f.__name__,
)
def test_every_string_opcode_feeds_stack_global_through_memo(push: object) -> None:
    asm = Asm().proto(2)
    push(asm, "subprocess")  # type: ignore[operator]
    asm.put(7)
    push(asm, "getoutput")  # type: ignore[operator]
    asm.long_binput(8).op("POP", "POP").get(7).long_binget(8).op("STACK_GLOBAL")
    data = asm.call1("id").stop().build()
    critical(data, "subprocess.getoutput")


# -- names that reach further than they look ------------------------------------------------


# https://github.com/trailofbits/fickling/security/advisories/GHSA-5j3x-jp52-966f (dotted names)
@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("tempfile", "_os.system"),
        ("torch._utils", "os.system"),
        ("torch.serialization", "os.system"),
        ("collections", "__builtins__.eval"),
        ("numpy", "lib._utils_impl.os.system"),
        ("builtins", "object.__subclasses__"),
    ],
)
def test_dotted_name_through_innocent_module(module: str, name: str) -> None:
    data = Asm().proto(4).stack_global(module, name).call1("id").stop().build()
    critical(data, f"{module}.{name}")


# Python 2 names are mapped by the unpickler (_compat_pickle): __builtin__ is builtins, commands
# is subprocess.
@pytest.mark.parametrize(
    ("module", "name", "shown"),
    [
        ("__builtin__", "eval", "__builtin__.eval"),
        ("commands", "getoutput", "commands.getoutput"),
        ("cPickle", "loads", "cPickle.loads"),
    ],
)
def test_python2_names_are_mapped(module: str, name: str, shown: str) -> None:
    data = Asm().global_(module, name).string("1").op("TUPLE1", "REDUCE").stop().build()
    critical(data, shown)


# Protocol 0 text GLOBAL whose lines carry stray whitespace (tabs, spaces, CR of CRLF files):
# a scanner must not let an exact-match allowlist/denylist be dodged by padding.
@pytest.mark.parametrize("module", ["os ", " os", "os\r", "\tos"])
def test_protocol0_text_global_with_odd_whitespace(module: str) -> None:
    data = Asm().global_(module, "system\r").string("id").op("TUPLE1", "REDUCE").stop().build()
    critical(data, "system")


# -- copyreg extension codes ----------------------------------------------------------------


@pytest.mark.parametrize("code", [0x7F, 0xBEEF, 0x12345678])
def test_extension_code_registered_inside_the_stream(code: int) -> None:
    data = (
        Asm()
        .proto(2)
        .global_("copyreg", "add_extension")
        .su("os")
        .su("system")
        .int_(code)
        .op("TUPLE3", "REDUCE", "POP")
        .ext(code)
        .call1("id")
        .stop()
        .build()
    )
    found = critical(data, "os.system")
    critical(data, "copyreg.add_extension")
    assert any("(EXT" in f.message for f in found)


def test_unresolved_extension_code_is_flagged() -> None:
    data = Asm().proto(2).ext(77).call1("id").stop().build()
    critical(data, "extension code 77")


# -- indirections that resolve a name at load time ------------------------------------------


# https://github.com/mmaitre314/picklescan/security/advisories/GHSA-vvpj-8cmc-gx39
def test_pkgutil_resolve_name() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("pkgutil", "resolve_name")
        .call1("os:system")
        .call1("id")
        .stop()
        .build()
    )
    critical(data, "pkgutil.resolve_name")
    found = critical(data, "os.system")
    assert any("pkgutil.resolve_name('os:system')('id')" in f.message for f in found)


# https://github.com/trailofbits/fickling/security/advisories/GHSA-q5qq-mvfm-j35x
# https://github.com/mmaitre314/picklescan/issues/66
def test_importlib_import_module_plus_getattr() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("builtins", "getattr")
        .stack_global("importlib", "import_module")
        .call1("os")
        .su("system")
        .op("TUPLE2", "REDUCE")
        .call1("id")
        .stop()
        .build()
    )
    found = critical(data, "os.system")
    chain = "builtins.getattr(importlib.import_module('os'), 'system')('id')"
    assert any(chain in f.message for f in found)
    assert uses(analyze(data))["os.system"] is True


def test_builtins_getattr_of___import__() -> None:
    data = (
        Asm()
        .proto(2)
        .global_("__builtin__", "getattr")
        .global_("__builtin__", "__import__")
        .call1("subprocess")
        .su("check_output")
        .op("TUPLE2", "REDUCE")
        .call1("id")
        .stop()
        .build()
    )
    critical(data, "__builtin__.__import__")
    critical(data, "subprocess.check_output")


# Allowlisted helper that imports by name (numpy < 2 ufunc pickles).
def test_numpy_ufunc_reconstruct_resolves_its_target() -> None:
    data = (
        Asm()
        .proto(2)
        .global_("numpy.core", "_ufunc_reconstruct")
        .su("os")
        .su("system")
        .op("TUPLE2", "REDUCE")
        .call1("id")
        .stop()
        .build()
    )
    critical(data, "os.system")


def test_stack_global_with_computed_operands() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("_codecs", "decode")
        .bytes_(b"os")
        .su("ascii")
        .op("TUPLE2", "REDUCE")
        .su("system")
        .op("STACK_GLOBAL")
        .call1("id")
        .stop()
        .build()
    )
    critical(data, "computed while loading")


# -- call indirection -------------------------------------------------------------------------


def test_functools_partial_built_by_pickle() -> None:
    data = pickle.dumps(functools.partial(os.system, "id"), protocol=4)
    analysis = analyze(data)
    critical(data, os.system.__module__ + ".system")
    assert "functools.partial" in uses(analysis)


def test_functools_partial_called() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("functools", "partial")
        .stack_global("os", "system")
        .su("id")
        .op("TUPLE2", "REDUCE", "EMPTY_TUPLE", "REDUCE")
        .stop()
        .build()
    )
    found = critical(data, "os.system")
    assert uses(analyze(data))["os.system"] is True
    assert any("functools.partial(os.system, 'id')()" in f.message for f in found)


def test_operator_attrgetter_chain() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("operator", "attrgetter")
        .call1("system")
        .stack_global("importlib", "import_module")
        .call1("os")
        .op("TUPLE1", "REDUCE")
        .call1("id")
        .stop()
        .build()
    )
    critical(data, "operator.attrgetter")
    critical(data, "os.system")


def test_operator_methodcaller_chain() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("operator", "methodcaller")
        .su("system")
        .su("id")
        .op("TUPLE2", "REDUCE")
        .stack_global("importlib", "import_module")
        .call1("os")
        .op("TUPLE1", "REDUCE")
        .stop()
        .build()
    )
    critical(data, "operator.methodcaller")
    critical(data, "os.system")
    assert uses(analyze(data))["os.system"] is True


def test_pickled_operator_objects() -> None:
    for obj in (operator.attrgetter("system"), operator.methodcaller("system", "id")):
        critical(pickle.dumps(obj), "operator.")


# -- known gadgets --------------------------------------------------------------------------


# https://github.com/mmaitre314/picklescan/security/advisories/GHSA-v7x6-rv5q-mhwc (timeit)
def test_timeit_timeit() -> None:
    critical(dumps_reduce(timeit.timeit, "import os; os.system('id')"), "timeit.timeit")


# https://github.com/trailofbits/fickling/security/advisories/GHSA-q5qq-mvfm-j35x (code)
def test_code_interactive_interpreter_runsource() -> None:
    data = (
        Asm()
        .proto(5)
        .stack_global("builtins", "getattr")
        .stack_global("code", "InteractiveInterpreter")
        .op("EMPTY_TUPLE", "REDUCE")
        .su("runsource")
        .op("TUPLE2", "REDUCE")
        .call1("import os; os.system('id')")
        .stop()
        .build()
    )
    critical(data, "code.InteractiveInterpreter")
    found = critical(data, "code.InteractiveInterpreter.runsource")
    assert any("'runsource')(\"import os; os.system('id')\")" in f.message for f in found)


@pytest.mark.parametrize(
    ("module", "name", "link"),
    [
        ("uuid", "_get_command_stdout", "stdlib helper that runs a command"),
        ("pip", "main", "picklescan CVE-2025-1716"),
        ("imaplib", "IMAP4_stream", "runs a command as the IMAP transport"),
        ("multiprocessing.util", "spawnv_passfds", "fickling GHSA-q5qq-mvfm-j35x"),
        ("pty", "spawn", "fickling GHSA-r7v6-mfhq-g3m2"),
        ("bdb", "Bdb.run", "exec of a string under the debugger"),
        ("cProfile", "run", "fickling GHSA-p523-jq9w-64x9"),
        ("profile", "Profile.runctx", "picklescan profile.Profile.run"),
        ("runpy", "run_path", "fickling GHSA-wfq2-52f7-7qvj"),
        ("pip._internal.cli.main", "main", "picklescan CVE-2025-1716"),
        ("ensurepip", "_run_pip", "picklescan GHSA-xp4f-hrf8-rxw7"),
        ("pydoc", "locate", "fickling GHSA-5hvc-6wx8-mvv4"),
        ("ctypes", "CDLL", "fickling GHSA-5hvc-6wx8-mvv4"),
        ("marshal", "loads", "fickling GHSA-565g-hwwr-4pp3"),
        ("types", "FunctionType", "fickling GHSA-565g-hwwr-4pp3"),
        ("asyncio.unix_events", "_UnixSubprocessTransport._start", "JFrog picklescan zero-days"),
        ("torch.hub", "load", "downloads and runs hubconf.py"),
        ("torch.serialization", "load", "nested load of another file"),
        ("numpy.testing._private.utils", "runstring", "exec"),
        ("webbrowser", "open", "network"),
        ("socket", "create_connection", "network"),
        ("shutil", "rmtree", "file system"),
        ("logging.config", "listen", "runs received configuration"),
        ("atexit", "register", "deferred call at exit"),
        ("sys", "setprofile", "interpreter hooks"),
    ],
)
def test_known_gadget(module: str, name: str, link: str) -> None:
    data = Asm().proto(4).stack_global(module, name).call1("x").stop().build()
    critical(data, f"{module}.{name}")


@pytest.mark.parametrize(
    "func", [os.system, subprocess.getoutput, runpy.run_path, cProfile.run, eval, exec]
)
def test_reduce_to_dangerous_callable_every_protocol(func: object) -> None:
    for protocol in range(6):
        data = dumps_reduce(func, "id", protocol=protocol)  # type: ignore[arg-type]
        critical(data, getattr(func, "__name__", ""))
        assert next(iter(uses(analyze(data)).values())) is True


# -- nested pickles -------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 4])
def test_nested_pickle_loads_of_a_bytes_argument(protocol: int) -> None:
    inner = dumps_reduce(os.system, "id", protocol=protocol)
    data = dumps_reduce(pickle.loads, inner, protocol=protocol)
    analysis = analyze(data)
    assert analysis.nested, "the inner pickle was not analysed"
    found = critical(data, "system")
    assert any("nested at offset" in f.message for f in found)
    critical(data, "pickle.loads")


# torch.storage._load_from_bytes(b) is torch.load(BytesIO(b), weights_only=False): an allowlisted
# helper that loads whatever pickle it is given.
def test_nested_pickle_through_torch_load_from_bytes() -> None:
    inner = dumps_reduce(os.system, "id", protocol=2)
    data = Asm().proto(2).global_("torch.storage", "_load_from_bytes")
    data = data.bytes_(inner).op("TUPLE1", "REDUCE").stop().build()
    found = critical(data, "system")
    assert any("nested at offset" in f.message for f in found)


def test_nested_pickle_in_any_bytes_argument_with_a_proto_header() -> None:
    inner = dumps_reduce(os.system, "id", protocol=4)
    data = Asm().proto(4).stack_global("collections", "OrderedDict")
    data = data.bytes_(inner).op("TUPLE1", "REDUCE").stop().build()
    found = critical(data, "system")
    assert any("nested at offset" in f.message for f in found)


def test_nested_pickle_depth_is_capped() -> None:
    data = dumps_reduce(os.system, "id", protocol=4)
    for _ in range(6):
        data = dumps_reduce(pickle.loads, data, protocol=4)
    found = findings_for(data)
    assert any(f.rule_id == "SSDF-SCAN-003" and "nested" in f.message for f in found)


# -- stream structure -----------------------------------------------------------------------


def test_payload_then_pop() -> None:
    data = _os_system_call(Asm().proto(4)).op("POP", "NONE").stop().build()
    critical(data, "os.system")


def test_second_pickle_after_a_benign_one() -> None:
    data = pickle.dumps({"weights": [1.0, 2.0]}) + dumps_reduce(os.system, "id")
    analysis = analyze(data)
    assert analysis.streams == 2
    critical(data, "system")


def test_broken_stream_after_the_payload() -> None:
    data = _os_system_call(Asm().proto(4)).raw(b"\xff\xfe garbage").build()
    found = critical(data, "os.system")
    assert any(f.rule_id == "SSDF-SCAN-003" for f in found)


def test_truncated_stream_after_the_payload() -> None:
    data = _os_system_call(Asm().proto(4)).su("abc").build()[:-1]
    found = critical(data, "os.system")
    assert any(f.rule_id == "SSDF-SCAN-003" for f in found)


# -- opcode variants that call --------------------------------------------------------------


def test_inst_opcode() -> None:
    data = Asm().op("MARK").string("id").inst("os", "system").stop().build()
    critical(data, "os.system")
    assert uses(analyze(data)) == {"os.system": True}


def test_obj_opcode() -> None:
    data = Asm().op("MARK").global_("os", "system").string("id").op("OBJ").stop().build()
    critical(data, "os.system")
    assert uses(analyze(data)) == {"os.system": True}


def test_newobj_opcode() -> None:
    data = (
        Asm().proto(2).global_("subprocess", "Popen").su("id").op("TUPLE1", "NEWOBJ").stop().build()
    )
    critical(data, "subprocess.Popen")
    assert uses(analyze(data)) == {"subprocess.Popen": True}


def test_newobj_ex_opcode() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("subprocess", "Popen")
        .su("id")
        .op("TUPLE1", "EMPTY_DICT")
        .su("shell")
        .op("NEWTRUE", "SETITEM", "NEWOBJ_EX")
        .stop()
        .build()
    )
    critical(data, "subprocess.Popen")
    assert uses(analyze(data)) == {"subprocess.Popen": True}


def test_build_with_injected___setstate__() -> None:
    # BUILD's slot state setattr()s __setstate__ on the instance; the next BUILD calls it.
    data = (
        Asm()
        .proto(4)
        .stack_global("argparse", "Namespace")
        .op("EMPTY_TUPLE", "REDUCE", "NONE", "EMPTY_DICT")
        .su("__setstate__")
        .stack_global("os", "system")
        .op("SETITEM", "TUPLE2", "BUILD")
        .su("id")
        .op("BUILD")
        .stop()
        .build()
    )
    found = critical(data, "os.system")
    assert uses(analyze(data))["os.system"] is True
    assert any("os.system('id')" in f.message for f in found)


def test_build_on_a_global_mutates_a_module_level_object() -> None:
    data = (
        Asm()
        .proto(4)
        .stack_global("torch.nn.modules.module", "Module")
        .op("NONE", "EMPTY_DICT")
        .su("__call__")
        .su("x")
        .op("SETITEM", "TUPLE2", "BUILD")
        .stop()
        .build()
    )
    critical(data, "torch.nn.modules.module.Module.__setstate__")
