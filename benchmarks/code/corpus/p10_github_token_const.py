# ruff: noqa
# expect: SSDF-CODE-010
import requests

GITHUB_TOKEN = "ghp_R8x2Kq9LmZ4vT7bN1cW5yH3jF6dP0sA2eU8g"
headers = {"Authorization": f"token {GITHUB_TOKEN}"}
r = requests.get("https://api.github.com/user", headers=headers, timeout=10)
