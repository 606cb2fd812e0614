# ruff: noqa
# expect: none
import subprocess
from openai import OpenAI

client = OpenAI()
ALLOWED = {"status", "restart", "logs"}

def operate(request_text):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": request_text}])
    action = r.choices[0].message.content.strip()
    if action not in ALLOWED:
        raise ValueError(action)
    subprocess.run(["systemctl", action, "inference.service"], check=True)
