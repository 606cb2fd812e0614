# ruff: noqa
# expect: SSDF-CODE-009
import ssl
import urllib.request

ctx = ssl._create_unverified_context()
data = urllib.request.urlopen("https://example.com/data.csv", context=ctx).read()
