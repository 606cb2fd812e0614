# ruff: noqa
# expect: none
import subprocess
from langchain_openai import ChatOpenAI

llm = ChatOpenAI()

def save_and_lint(task):
    code = llm.invoke(f"Write a Python function that {task}").content
    with open("generated/candidate.py", "w") as f:
        f.write(code)
    return subprocess.run(["ruff", "check", "generated/candidate.py"], capture_output=True)
