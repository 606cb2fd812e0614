# ruff: noqa
# expect: SSDF-CODE-007
from flask import Flask, request
from openai import OpenAI

app = Flask(__name__)
client = OpenAI()
TEMPLATE = "You are the assistant of {company}. Only discuss {company} products."

@app.route("/support")
def support():
    system_msg = TEMPLATE.format(company=request.args["company"])
    r = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": system_msg}, {"role": "user", "content": "hi"}],
    )
    return r.choices[0].message.content
