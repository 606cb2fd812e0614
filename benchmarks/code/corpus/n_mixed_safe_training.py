# ruff: noqa
# expect: none
import json
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer

REVISION = "e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4"

def main():
    cfg = yaml.safe_load(open("train.yaml"))
    tok = AutoTokenizer.from_pretrained("gpt2", revision=REVISION)
    model = AutoModelForCausalLM.from_pretrained("gpt2", revision=REVISION)
    state = torch.load("runs/last.pt", weights_only=True)
    model.load_state_dict(state)
    out = model.generate(**tok("hello", return_tensors="pt"), max_new_tokens=20)
    text = tok.decode(out[0])
    print(json.dumps({"sample": text}))
    with open("samples/out.txt", "a") as f:
        f.write(text)
