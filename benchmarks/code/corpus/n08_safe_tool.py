# ruff: noqa
# expect: none
import math
from langchain_core.tools import tool

@tool
def square_root(x: float) -> float:
    """Square root of x."""
    return math.sqrt(x)
