# ruff: noqa
# expect: SSDF-CODE-008
from langchain_experimental.tools import PythonREPLTool
from langchain.agents import initialize_agent
from langchain_openai import ChatOpenAI

tools = [PythonREPLTool()]
agent = initialize_agent(tools, ChatOpenAI(), agent="zero-shot-react-description")
