# ruff: noqa
# expect: SSDF-CODE-009
import ssl

context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
