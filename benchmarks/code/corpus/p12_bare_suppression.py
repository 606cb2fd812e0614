# ruff: noqa
# expect: SSDF-CODE-012, SSDF-CODE-001
import torch

state = torch.load("best.pt")  # ssdf: ignore[SSDF-CODE-001]
