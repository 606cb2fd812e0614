# ruff: noqa
# expect: SSDF-CODE-002
import dill

def restore(blob: bytes):
    return dill.loads(blob)
