# ruff: noqa
# expect: SSDF-CODE-007
from fastapi import FastAPI
import anthropic

app = FastAPI()
client = anthropic.Anthropic()

@app.get("/ask")
def ask(question: str, tone: str):
    r = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=300,
        system="You are a support bot. Answer in a " + tone + " tone.",
        messages=[{"role": "user", "content": question}],
    )
    return {"answer": r.content[0].text}
