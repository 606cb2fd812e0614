# ruff: noqa
# expect: none
from transformers import AutoTokenizer

tok = AutoTokenizer.from_pretrained("./vendor/model", trust_remote_code=False)
