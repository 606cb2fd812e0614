# ruff: noqa
# expect: SSDF-CODE-006
import json
import shutil
from langchain_anthropic import ChatAnthropic

llm = ChatAnthropic(model="claude-3-5-haiku-latest")

def cleanup(report):
    raw = llm.invoke("Which folder should be deleted? Answer as JSON: " + report).content
    plan, reason = json.loads(raw), "model decided"
    shutil.rmtree(plan["folder"])
