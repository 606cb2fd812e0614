# ruff: noqa
# expect: SSDF-CODE-006
from markupsafe import Markup
from transformers import pipeline

generator = pipeline("text-generation", model="./models/gpt2-local")

def render_reply(prompt):
    result = generator(prompt, max_new_tokens=50)
    return Markup("<p>" + result[0]["generated_text"] + "</p>")
