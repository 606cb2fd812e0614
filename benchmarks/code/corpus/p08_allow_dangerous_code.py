# ruff: noqa
# expect: SSDF-CODE-008
import pandas as pd
from langchain_experimental.agents import create_pandas_dataframe_agent
from langchain_openai import ChatOpenAI

df = pd.read_csv("sales.csv")
agent = create_pandas_dataframe_agent(ChatOpenAI(), df, allow_dangerous_code=True)
