# ruff: noqa
# expect: SSDF-CODE-001
from torch import load

def restore(ckpt_file):
    return load(ckpt_file)
