# ruff: noqa
# expect: none
import yaml

data = yaml.load(open("experiment.yaml"), Loader=yaml.SafeLoader)
more = yaml.load(open("other.yaml"), Loader=yaml.CSafeLoader)
