# ruff: noqa
# expect: SSDF-CODE-007
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

llm = ChatOpenAI()
role = input("Role: ")
reply = llm.invoke([SystemMessage(content=f"Act as {role}"), HumanMessage(content="hello")])
