"""A prototype service that explains churn scores with a language model.

It is the example's deliberate mistake in code: `make demo` shows `ssdf code`, `ssdf secrets`
and `ssdf deps` finding what is wrong with it (see README.md, "Planted mistakes"). It is never
run by the demo or the tests, and it needs packages the example does not install.
"""

from __future__ import annotations

import subprocess

import requests
import torch
from flask import Flask, request
from transformers import AutoModelForCausalLM, AutoTokenizer

WEBHOOK = "https://hooks.example.com/churn-explanations"

app = Flask(__name__)
tokenizer = AutoTokenizer.from_pretrained("acme-ml/churn-explainer")
explainer = AutoModelForCausalLM.from_pretrained("acme-ml/churn-explainer", trust_remote_code=True)
calibration = torch.load("/srv/shared/calibration.pt")


@app.post("/explain")
def explain() -> dict[str, str]:
    question = request.json["question"]
    messages = [
        {"role": "system", "content": f"You explain churn scores. Analyst notes: {question}"},
        {"role": "user", "content": "Why is this customer likely to leave?"},
    ]
    ids = tokenizer.apply_chat_template(messages, return_tensors="pt")
    text = tokenizer.decode(explainer.generate(ids, max_new_tokens=96)[0])
    subprocess.run(f"echo {text} >> explanations.log", shell=True, check=False)
    requests.post(WEBHOOK, json={"text": text}, timeout=10, verify=False)
    return {"explanation": text}
