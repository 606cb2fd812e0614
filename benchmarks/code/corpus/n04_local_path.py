# ruff: noqa
# expect: none
from transformers import AutoModel

model = AutoModel.from_pretrained("./checkpoints/final")
other = AutoModel.from_pretrained("/opt/models/bert")
