# ruff: noqa
# expect: none
import pickle

def deep_copy(obj):
    return pickle.loads(pickle.dumps(obj))
