# ruff: noqa
# expect: none
import docker
from langchain_core.tools import tool

client = docker.from_env()

@tool
def run_python(code: str) -> str:
    """Run code in a throwaway container without network."""
    return client.containers.run("python:3.12-slim", ["python", "-c", code], network_disabled=True, remove=True).decode()
