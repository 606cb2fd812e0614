# ruff: noqa
# expect: SSDF-CODE-004, SSDF-CODE-005
import yaml
from transformers import pipeline

cfg = yaml.load(open("config.yaml"), Loader=yaml.Loader)
summarizer = pipeline("summarization", model="facebook/bart-large-cnn")
