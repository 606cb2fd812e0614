# ruff: noqa
# expect: none
from langchain.agents import load_tools
from langchain_openai import OpenAI

tools = load_tools(["serpapi", "llm-math"], llm=OpenAI())
