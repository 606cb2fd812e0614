# ruff: noqa
# expect: SSDF-CODE-006
import ollama

def save_summary(doc):
    reply = ollama.chat(model="llama3", messages=[{"role": "user", "content": doc}])
    filename = reply["message"]["content"].strip()
    with open(filename, "w") as f:
        f.write(doc)
