# ruff: noqa
# expect: SSDF-CODE-002
import joblib

def load_model(model_dir):
    return joblib.load(f"{model_dir}/classifier.joblib")
