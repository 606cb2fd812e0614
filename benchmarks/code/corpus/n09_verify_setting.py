# ruff: noqa
# expect: none
import requests

class Settings:
    verify_tls = True

settings = Settings()
resp = requests.get("https://api.example.com", verify=settings.verify_tls, timeout=5)
