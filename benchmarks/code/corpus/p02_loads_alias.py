# ruff: noqa
# expect: SSDF-CODE-002
from pickle import loads as l
import requests

payload = requests.get("https://models.example.com/m.pkl", timeout=10).content
clf = l(payload)
