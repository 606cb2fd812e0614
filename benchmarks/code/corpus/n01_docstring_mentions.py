# ruff: noqa
# expect: none
def load_weights(path):
    """Load weights. Do not use torch.load(path) or pickle.load here: use safetensors.

    Example: yaml.load(stream) is unsafe; requests.get(url, verify=False) too.
    """
    from safetensors.numpy import load_file

    return load_file(path)
