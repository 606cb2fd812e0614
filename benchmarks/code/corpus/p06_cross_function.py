# ruff: noqa
# expect: SSDF-CODE-006
import subprocess
from openai import OpenAI

client = OpenAI()

def ask(prompt):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
    return r.choices[0].message.content

def main():
    cmd = ask("list files command")
    subprocess.check_output(["bash", "-c", cmd])
