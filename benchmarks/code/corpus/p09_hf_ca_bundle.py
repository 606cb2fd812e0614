# ruff: noqa
# expect: SSDF-CODE-009
import os
from transformers import AutoModel

os.environ["CURL_CA_BUNDLE"] = ""
model = AutoModel.from_pretrained("./local-bert")
