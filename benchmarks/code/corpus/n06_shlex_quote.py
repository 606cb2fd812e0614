# ruff: noqa
# expect: none
import os
import shlex
from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model="gpt-4o")

def notify(topic):
    title = llm.invoke(f"Title for {topic}").content
    os.system("notify-send " + shlex.quote(title))
