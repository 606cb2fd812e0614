# ruff: noqa
# expect: SSDF-CODE-006
from openai import OpenAI

client = OpenAI()

def calculate(question: str) -> float:
    resp = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Write a Python expression for: {question}"}],
    )
    expression = resp.choices[0].message.content.strip()
    return eval(expression)
