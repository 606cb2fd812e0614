# ruff: noqa
# expect: none
import logging
from langchain_openai import ChatOpenAI

llm = ChatOpenAI()
log = logging.getLogger(__name__)

def summarise(doc):
    summary = llm.invoke(f"Summarise: {doc}").content
    log.info("summary length %d", len(summary))
    return {"summary": summary}
