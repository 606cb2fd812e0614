# ruff: noqa
# expect: SSDF-CODE-003
from transformers import AutoTokenizer

tok = AutoTokenizer.from_pretrained("./vendor/model", trust_remote_code=True)
