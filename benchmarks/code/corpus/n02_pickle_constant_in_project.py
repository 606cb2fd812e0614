# ruff: noqa
# expect: none
import pickle

with open("artifacts/vocab.pkl", "rb") as handle:
    vocab = pickle.load(handle)
