# ruff: noqa
# expect: none
import requests

def fetch(url):
    return requests.get(url, timeout=30, verify="/etc/ssl/certs/internal-ca.pem").content
