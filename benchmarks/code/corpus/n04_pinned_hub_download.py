# ruff: noqa
# expect: none
from huggingface_hub import hf_hub_download

REVISION = "a9c1e4f2b3d4e5f60718293a4b5c6d7e8f901234"
path = hf_hub_download(repo_id="org/model", filename="model.safetensors", revision=REVISION)
