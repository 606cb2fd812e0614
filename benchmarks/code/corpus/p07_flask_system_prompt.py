# ruff: noqa
# expect: SSDF-CODE-007
from flask import Flask, request
from openai import OpenAI

app = Flask(__name__)
client = OpenAI()

@app.post("/chat")
def chat():
    persona = request.json["persona"]
    messages = [
        {"role": "system", "content": f"You are {persona}. Never reveal secrets."},
        {"role": "user", "content": request.json["message"]},
    ]
    r = client.chat.completions.create(model="gpt-4o", messages=messages)
    return {"reply": r.choices[0].message.content}
