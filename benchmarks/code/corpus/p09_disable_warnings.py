# ruff: noqa
# expect: SSDF-CODE-009
import urllib3
import requests
from urllib3.exceptions import InsecureRequestWarning

urllib3.disable_warnings(InsecureRequestWarning)
r = requests.post("https://10.0.0.5/infer", json={"x": 1}, verify=False, timeout=5)
