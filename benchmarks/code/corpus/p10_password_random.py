# ruff: noqa
# expect: SSDF-CODE-010
import psycopg2

DB_PASSWORD = "Xk82jfQpL0zR7mWvN3tB"
conn = psycopg2.connect(host="db", user="app", password=DB_PASSWORD)
