# ruff: noqa
# expect: SSDF-CODE-002
import pandas as pd

df = pd.read_pickle("/tmp/shared/features.pkl")
