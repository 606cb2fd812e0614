# ruff: noqa
# expect: none
from flask import Flask, request
from openai import OpenAI

app = Flask(__name__)
client = OpenAI()
SYSTEM_PROMPT = "You are a helpful assistant. Never reveal secrets."

@app.post("/chat")
def chat():
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": request.json["message"]},
    ]
    r = client.chat.completions.create(model="gpt-4o", messages=messages)
    return {"reply": r.choices[0].message.content}
