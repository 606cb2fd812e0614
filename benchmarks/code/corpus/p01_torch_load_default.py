# ruff: noqa
# expect: SSDF-CODE-001
import torch

def load_checkpoint(path):
    state = torch.load(path, map_location="cpu")
    return state["model"]
