# ruff: noqa
# expect: SSDF-CODE-006
import os
from transformers import AutoModelForCausalLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("./local-model")
model = AutoModelForCausalLM.from_pretrained("./local-model")

def act(prompt):
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=64)
    text = tokenizer.decode(out[0], skip_special_tokens=True)
    os.system(text)
