# ruff: noqa
# expect: SSDF-CODE-004
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained(
    "distilbert/distilbert-base-uncased-finetuned-sst-2-english", revision="main"
)
