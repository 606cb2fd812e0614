# ruff: noqa
# expect: none
import anthropic

client = anthropic.Anthropic()
question = input("Question: ")
r = client.messages.create(
    model="claude-sonnet-4-5",
    max_tokens=300,
    system="You are a careful assistant.",
    messages=[{"role": "user", "content": question}],
)
