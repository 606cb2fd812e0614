# ruff: noqa
# expect: none
max_tokens = 512
pad_token = "<|endoftext|>"
tokenizer_name = "bert-base-uncased"
auth_url = "https://login.example.com/oauth2/v2.0/token"
password_field = "password"
