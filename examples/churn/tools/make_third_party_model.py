"""Write the example's "downloaded" third-party model: third_party/model.safetensors.

The example pretends that ``third_party/`` was downloaded from a model hub: a small tabular
customer encoder whose embeddings the churn project could reuse (PW.4.1). So that the
repository holds no opaque blob, the weights are produced here, deterministically, with the
standard library alone: uniform initialisation from one seeded generator, using arithmetic and
square roots only (both exactly rounded in IEEE 754), so the file is the same bytes everywhere.

The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
header length N, then N bytes of JSON mapping each tensor name to its ``dtype``, ``shape`` and
``data_offsets`` (begin and end, relative to the byte buffer that follows the header), plus an
optional ``__metadata__`` map of strings; then the raw little-endian tensor bytes. The header is
padded with spaces to a multiple of 8 bytes.

Usage:
    python tools/make_third_party_model.py [--out third_party/model.safetensors]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "third_party" / "model.safetensors"
SEED = 1729

# name -> (dtype, shape). Matches third_party/config.json: 5 regions and 3 contract types
# embedded in 4 dimensions, 14 input features, a 32-unit hidden layer and a 16-unit output.
TENSORS: dict[str, tuple[str, tuple[int, ...]]] = {
    "contract_embedding.weight": ("F32", (3, 4)),
    "encoder.0.bias": ("F32", (32,)),
    "encoder.0.weight": ("F32", (32, 14)),
    "encoder.2.bias": ("F32", (16,)),
    "encoder.2.weight": ("F32", (16, 32)),
    "norm.bias": ("F16", (16,)),
    "norm.num_batches_tracked": ("I64", ()),
    "norm.weight": ("F16", (16,)),
    "region_embedding.weight": ("F32", (5, 4)),
}
METADATA = {
    "format": "pt",
    "model": "tabular-commons/customer-encoder-small",
    "revision": "3f1c2e9",
}
_PACK = {"F32": "<f", "F16": "<e", "I64": "<q"}


def _values(rng: random.Random, name: str, shape: tuple[int, ...]) -> list[float | int]:
    count = math.prod(shape)
    if name.endswith("num_batches_tracked"):
        return [12500]
    if name.startswith("norm.weight"):
        return [1.0 + 0.05 * (2.0 * rng.random() - 1.0) for _ in range(count)]
    fan_in = shape[-1] if len(shape) > 1 else 16
    bound = 1.0 / math.sqrt(fan_in)
    return [bound * (2.0 * rng.random() - 1.0) for _ in range(count)]


def build() -> bytes:
    """Return the bytes of the safetensors file."""
    rng = random.Random(SEED)
    header: dict[str, object] = {"__metadata__": METADATA}
    buffer = bytearray()
    for name, (dtype, shape) in TENSORS.items():
        begin = len(buffer)
        for value in _values(rng, name, shape):
            buffer += struct.pack(_PACK[dtype], value)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, len(buffer)]}
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(buffer)


def main() -> None:
    """Parse the command line and write the file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="file to write")
    args = parser.parse_args()
    data = build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {len(data)} bytes to {args.out}")


if __name__ == "__main__":
    main()
