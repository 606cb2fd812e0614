# ruff: noqa
# expect: none
from markupsafe import Markup, escape
from transformers import pipeline

generator = pipeline("text-generation", model="./models/gpt2-local")

def render_reply(prompt):
    result = generator(prompt, max_new_tokens=50)
    return Markup("<p>%s</p>") % escape(result[0]["generated_text"])
