# ruff: noqa
# expect: none
import os
from langchain_core.messages import SystemMessage

style = os.environ.get("BOT_STYLE", "concise")
system_prompt = f"You are a {style} assistant."
messages = [SystemMessage(content=system_prompt)]
