# ruff: noqa
# expect: SSDF-CODE-008
from langchain_core.tools import Tool

def calculator(expression: str) -> str:
    return str(eval(expression))

calc = Tool(name="calculator", func=calculator, description="Evaluate arithmetic")
