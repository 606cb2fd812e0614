# ruff: noqa
# expect: none
import os

os.environ["REQUESTS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"

def check(items, verify=False):
    return [i for i in items if i or not verify]

result = check([1, 2], verify=False)
