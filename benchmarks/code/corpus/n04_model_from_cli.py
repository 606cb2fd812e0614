# ruff: noqa
# expect: none
import argparse
from transformers import AutoModel

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="./checkpoints/final")
args = parser.parse_args()
model = AutoModel.from_pretrained(args.model)
