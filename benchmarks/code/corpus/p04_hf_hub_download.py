# ruff: noqa
# expect: SSDF-CODE-004
from huggingface_hub import hf_hub_download

path = hf_hub_download(repo_id="TheBloke/Llama-2-7B-GGUF", filename="llama-2-7b.Q4_K_M.gguf")
