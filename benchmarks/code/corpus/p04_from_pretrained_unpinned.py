# ruff: noqa
# expect: SSDF-CODE-004
from transformers import AutoModel, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
