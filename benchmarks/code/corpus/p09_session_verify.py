# ruff: noqa
# expect: SSDF-CODE-009
import requests

session = requests.Session()
session.verify = False
resp = session.get("https://internal.example/api", timeout=5)
