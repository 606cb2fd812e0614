# ruff: noqa
# expect: none
from ruamel.yaml import YAML

yaml = YAML(typ="safe")
with open("params.yaml") as f:
    params = yaml.load(f)
