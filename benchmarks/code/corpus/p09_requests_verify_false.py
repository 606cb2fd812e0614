# ruff: noqa
# expect: SSDF-CODE-009
import requests

def fetch_weights(url):
    r = requests.get(url, verify=False, timeout=30)
    r.raise_for_status()
    return r.content
