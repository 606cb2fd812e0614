# ruff: noqa
# expect: SSDF-CODE-010
from some_vendor import VendorClient

client = VendorClient(api_key="q7Zp2LmX9vK4tR8wB3nY6cF1hJ5dS0aG")
