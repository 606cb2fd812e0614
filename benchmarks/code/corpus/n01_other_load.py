# ruff: noqa
# expect: none
import json

def load(path):
    with open(path) as f:
        return json.load(f)

config = load("config.json")
