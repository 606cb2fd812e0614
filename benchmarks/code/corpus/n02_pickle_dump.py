# ruff: noqa
# expect: none
import pickle

def save(obj, path):
    with open(path, "wb") as handle:
        pickle.dump(obj, handle)
