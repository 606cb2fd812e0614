# ruff: noqa
# expect: SSDF-CODE-004
from datasets import load_dataset

train = load_dataset("imdb", split="train")
