# ruff: noqa
# expect: SSDF-CODE-008
from langchain.agents import load_tools
from langchain_openai import OpenAI

llm = OpenAI(temperature=0)
tools = load_tools(["serpapi", "terminal", "llm-math"], llm=llm)
