# ruff: noqa
# expect: SSDF-CODE-008
import subprocess
from langchain_core.tools import tool

@tool
def run_command(command: str) -> str:
    """Run a shell command and return its output."""
    return subprocess.check_output(command, shell=True, text=True)
