# ruff: noqa
# expect: SSDF-CODE-002
import numpy as np

def load_embeddings(path):
    return np.load(path, allow_pickle=True)
