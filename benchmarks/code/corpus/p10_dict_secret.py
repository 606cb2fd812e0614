# ruff: noqa
# expect: SSDF-CODE-010
CONFIG = {
    "endpoint": "https://api.vendor.example/v1",
    "secret_key": "9fK2mQ7xL4pZ8wR1tV6bN3cY5hJ0dS7a",
}
