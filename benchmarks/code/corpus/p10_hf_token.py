# ruff: noqa
# expect: SSDF-CODE-010
from huggingface_hub import login

login(token="hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567")
