# ruff: noqa
# expect: SSDF-CODE-005
import yaml

data = yaml.load(open("experiment.yaml"), Loader=yaml.UnsafeLoader)
