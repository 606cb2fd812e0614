# ruff: noqa
# expect: SSDF-CODE-008
from smolagents import CodeAgent, InferenceClientModel

agent = CodeAgent(tools=[], model=InferenceClientModel())
agent.run("What is the 20th Fibonacci number?")
