# ruff: noqa
# expect: none
import torch

# ssdf: ignore[SSDF-CODE-001] checkpoints come from our signed model registry (ssdf integrity verify)
state = torch.load("registry/best.pt", map_location="cpu")
