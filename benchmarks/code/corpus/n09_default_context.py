# ruff: noqa
# expect: none
import ssl
import urllib.request

ctx = ssl.create_default_context(cafile="/etc/ssl/internal.pem")
data = urllib.request.urlopen("https://example.com/data.csv", context=ctx).read()
