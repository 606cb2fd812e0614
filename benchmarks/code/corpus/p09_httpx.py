# ruff: noqa
# expect: SSDF-CODE-009
import httpx

client = httpx.Client(verify=False, timeout=10)
