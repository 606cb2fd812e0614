# ruff: noqa
# expect: SSDF-CODE-005
import yaml

params = yaml.full_load(open("params.yaml"))
