# ruff: noqa
# expect: none
import joblib

scaler = joblib.load("models/scaler.joblib")
