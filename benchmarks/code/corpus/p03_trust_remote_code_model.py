# ruff: noqa
# expect: SSDF-CODE-003
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained(
    "org/custom-model",
    revision="3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c",
    trust_remote_code=True,
)
