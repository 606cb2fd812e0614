# ruff: noqa
# expect: none
from smolagents import CodeAgent, InferenceClientModel

agent = CodeAgent(tools=[], model=InferenceClientModel(), executor_type="e2b")
