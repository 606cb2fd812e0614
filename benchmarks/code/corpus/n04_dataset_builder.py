# ruff: noqa
# expect: none
from datasets import load_dataset

ds = load_dataset("csv", data_files={"train": "data/train.csv"})
