# ruff: noqa
# expect: none
import subprocess

def version():
    return subprocess.run(["git", "describe", "--tags"], capture_output=True, text=True).stdout

LIMIT = eval("2 ** 10")
