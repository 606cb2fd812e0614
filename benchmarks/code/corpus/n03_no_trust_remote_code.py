# ruff: noqa
# expect: none
from transformers import AutoConfig

config = AutoConfig.from_pretrained("/srv/models/llama")
