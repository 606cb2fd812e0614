# ruff: noqa
# expect: SSDF-CODE-010
import smtplib

SMTP_PASSWORD = "Summer2024!"
server = smtplib.SMTP("mail.example.com", 587)
server.login("alerts@example.com", SMTP_PASSWORD)
