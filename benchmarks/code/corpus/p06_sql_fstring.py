# ruff: noqa
# expect: SSDF-CODE-006
import sqlite3
import anthropic

client = anthropic.Anthropic()
conn = sqlite3.connect("app.db")

def lookup(question):
    msg = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=200,
        messages=[{"role": "user", "content": question}],
    )
    name = msg.content[0].text
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM customers WHERE name = '{name}'")
    return cur.fetchall()
