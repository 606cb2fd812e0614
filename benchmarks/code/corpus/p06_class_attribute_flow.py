# ruff: noqa
# expect: SSDF-CODE-006
import os
from openai import OpenAI


class Assistant:
    def __init__(self):
        self.client = OpenAI()
        self.last = ""

    def ask(self, prompt):
        r = self.client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": prompt}]
        )
        self.last = r.choices[0].message.content

    def act(self):
        os.system(self.last)
