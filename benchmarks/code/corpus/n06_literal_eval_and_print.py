# ruff: noqa
# expect: none
import ast
from openai import OpenAI

client = OpenAI()

def numbers(question):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])
    text = r.choices[0].message.content
    print(text)
    return ast.literal_eval(text)
