# ruff: noqa
# expect: SSDF-CODE-004
import huggingface_hub as hub

local_dir = hub.snapshot_download("openai/whisper-small", revision="v1.0")
