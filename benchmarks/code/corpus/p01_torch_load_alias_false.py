# ruff: noqa
# expect: SSDF-CODE-001
import torch as t

model = t.load("checkpoints/best.pt", weights_only=False)
