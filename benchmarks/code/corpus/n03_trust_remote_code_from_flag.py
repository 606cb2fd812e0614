# ruff: noqa
# expect: none
import argparse
from transformers import AutoModel

parser = argparse.ArgumentParser()
parser.add_argument("--trust-remote-code", action="store_true")
args = parser.parse_args()
model = AutoModel.from_pretrained("./models/local", trust_remote_code=args.trust_remote_code)
