# ruff: noqa
# expect: SSDF-CODE-007
import sys
from openai import OpenAI

client = OpenAI()
domain = sys.argv[1]
system_prompt = "You are an expert in {}. Follow the rules.".format(domain)
r = client.chat.completions.create(
    model="gpt-4o",
    messages=[{"role": "system", "content": system_prompt}, {"role": "user", "content": "hi"}],
)
