# ruff: noqa
# expect: none
from openai import OpenAI

client = OpenAI()
BASE = "You are a translator."
RULES = " Translate to French only."
system_prompt = BASE + RULES
text = input("Text: ")
r = client.chat.completions.create(
    model="gpt-4o",
    messages=[{"role": "system", "content": system_prompt}, {"role": "user", "content": text}],
)
