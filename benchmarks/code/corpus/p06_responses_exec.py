# ruff: noqa
# expect: SSDF-CODE-006
from openai import OpenAI

client = OpenAI()
code = client.responses.create(model="gpt-4.1", input="write a plotting script").output_text
exec(code)
