# ruff: noqa
# expect: none
import html
from openai import OpenAI

client = OpenAI()

def answer_html(question):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])
    text = r.choices[0].message.content
    return f"<div class='answer'>{html.escape(text)}</div>"
