# ruff: noqa
# expect: none
import sqlite3
from openai import OpenAI

client = OpenAI()
conn = sqlite3.connect("app.db")

def lookup(question):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])
    name = r.choices[0].message.content
    cur = conn.cursor()
    cur.execute("SELECT * FROM customers WHERE name = ?", (name,))
    return cur.fetchall()
