#!/usr/bin/env python3
"""Generate synthetic example values for rule files.

Every example secret in rules/*.toml is made up: random characters in the shape
the vendor documents, never a real key and never a value copied from another
project. This script makes such values from a small shape language:

    {b62:N}   N characters of [0-9A-Za-z]        {hex:N}  N of [0-9a-f]
    {HEX:N}   N of [0-9A-F]                      {lan:N}  N of [0-9a-z]
    {uan:N}   N of [0-9A-Z]                      {dig:N}  N digits
    {url:N}   N of [0-9A-Za-z_-]                 {b64:N}  N of [0-9A-Za-z+/]
    {uuid}    a random (version 4) UUID          {crc32}  GitHub-style checksum:
              base62 CRC32 (6 chars) of everything after the first '_'

    python3 rules/tools/gen_examples.py 'aio_{b62:28}' 'ghp_{b62:30}{crc32}'
"""
import random
import re
import string
import sys
import uuid
import zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CLASSES = {
    "b62": B62,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "lan": string.digits + string.ascii_lowercase,
    "uan": string.digits + string.ascii_uppercase,
    "dig": string.digits,
    "url": B62 + "_-",
    "b64": B62 + "+/",
}
# Substrings the scanner's placeholder filter drops; a generated value must avoid them.
BANNED = ("xxxx", "example", "sample", "fake", "dummy", "test", "redacted")


def base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def _plausible(value: str) -> bool:
    low = value.lower()
    if any(b in low for b in BANNED):
        return False
    if re.search(r"(.)\1{4}", value):
        return False
    for i in range(len(value) - 5):  # no ascending/descending runs of 6
        w = [ord(c) for c in value[i : i + 6]]
        d = {w[j + 1] - w[j] for j in range(5)}
        if d == {1} or d == {-1}:
            return False
    return True


def generate(shape: str, rng: random.Random) -> str:
    def one() -> tuple:
        out, rand = "", ""
        for m in re.finditer(r"\{(\w+)(?::(\d+))?\}|[^{]+|\{", shape):
            kind, n = m.group(1), m.group(2)
            if kind is None:
                out += m.group(0)
            elif kind == "uuid":
                out += str(uuid.UUID(int=rng.getrandbits(128), version=4))
            elif kind == "crc32":
                body = out.split("_", 1)[1] if "_" in out else out
                out += base62(zlib.crc32(body.encode()), 6)
            else:
                part = "".join(rng.choice(CLASSES[kind]) for _ in range(int(n)))
                out, rand = out + part, rand + part
        return out, rand

    for _ in range(1000):
        v, rand = one()
        if _plausible(rand):
            return v
    raise SystemExit(f"could not generate a plausible value for {shape!r}")


if __name__ == "__main__":
    rng = random.Random()
    for s in sys.argv[1:]:
        print(generate(s, rng))
