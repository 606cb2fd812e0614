# ruff: noqa
# expect: SSDF-CODE-002
import pickle

def read_features(path):
    with open(path, "rb") as handle:
        return pickle.load(handle)
