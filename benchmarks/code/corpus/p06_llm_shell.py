# ruff: noqa
# expect: SSDF-CODE-006
import subprocess
from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model="gpt-4o")

def run_suggested(task):
    answer = llm.invoke(f"Give a bash command to {task}")
    command = answer.content
    return subprocess.run(command, shell=True, capture_output=True, text=True)
