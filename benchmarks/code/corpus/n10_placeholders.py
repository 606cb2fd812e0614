# ruff: noqa
# expect: none
API_KEY = "YOUR_API_KEY"
password = "changeme"
token = ""
SECRET = "<set-me>"
client_secret = "${CLIENT_SECRET}"
