# ruff: noqa
# expect: SSDF-CODE-011
def train(:
    pass
