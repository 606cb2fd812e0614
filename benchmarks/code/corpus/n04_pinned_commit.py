# ruff: noqa
# expect: none
from transformers import AutoModel

model = AutoModel.from_pretrained(
    "bert-base-uncased", revision="86b5e0934494bd15c9632b12f734a8a67f723594"
)
