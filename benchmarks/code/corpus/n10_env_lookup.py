# ruff: noqa
# expect: none
import os
from openai import OpenAI

api_key = os.environ["OPENAI_API_KEY"]
client = OpenAI(api_key=api_key)
token = os.getenv("HF_TOKEN")
