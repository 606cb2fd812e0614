# ruff: noqa
# expect: SSDF-CODE-006
from litellm import completion

def answer_html(question):
    response = completion(model="gpt-4o", messages=[{"role": "user", "content": question}])
    text = response.choices[0].message.content
    return f"<div class='answer'>{text}</div>"
