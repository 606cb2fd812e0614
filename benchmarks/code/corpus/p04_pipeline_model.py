# ruff: noqa
# expect: SSDF-CODE-004
from transformers import pipeline

classifier = pipeline("sentiment-analysis", model="cardiffnlp/twitter-roberta-base-sentiment")
