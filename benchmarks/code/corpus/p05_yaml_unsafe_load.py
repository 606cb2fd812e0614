# ruff: noqa
# expect: SSDF-CODE-005
from yaml import unsafe_load

def parse(text):
    return unsafe_load(text)
