# ruff: noqa
# expect: SSDF-CODE-002
import cloudpickle
import sys

with open(sys.argv[1], "rb") as f:
    fn = cloudpickle.load(f)
