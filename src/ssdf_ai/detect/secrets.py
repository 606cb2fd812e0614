"""Secret detectors: provider token formats, private keys, JWTs, database URLs, keyed tokens.

Each provider format is a regex anchored on a literal prefix (``ghp_``, ``AKIA``, ``-----BEGIN``),
so the engine skips a rule entirely when its prefix is absent. Candidates are validated only
on a hit: JWT headers are decoded, database URL passwords checked against placeholders, and
bare tokens next to a ``key``/``token``/``secret``/``password`` name must look random (Shannon
entropy, mixed character classes). See ``docs/detect.md``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Iterator

from ssdf_ai.detect._hit import Candidate, Confidence, redact
from ssdf_ai.detect._rule import Rule

# Priority: a provider format beats a generic keyed token covering the same characters.
_PROVIDER = 20
_GENERIC = 10


def shannon_entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _cand(kind: str, start: int, end: int, text: str, confidence: Confidence) -> Candidate:
    return Candidate(kind, "secret", start, end, confidence, redact(text[start:end]), _PROVIDER)


_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_]")


def _after_token_char(text: str, start: int) -> bool:
    return start > 0 and _TOKEN_CHAR.match(text, start - 1) is not None


def _compile_prefixed(prefixes: dict[str, str]) -> list[re.Pattern[str]]:
    # One regex per literal prefix: ``re`` skips ahead to a literal prefix far faster than it
    # tries an alternation or a look-behind at every position. The boundary before the
    # prefix is checked in Python.
    return [re.compile(re.escape(p) + rest) for p, rest in prefixes.items()]


def _simple(
    kind: str,
    prefixes: dict[str, str],
    confidence: Confidence = "high",
    gates: tuple[str, ...] = (),
) -> Rule:
    """A rule of one regex per literal prefix; ``gates`` default to the prefixes."""
    regexes = _compile_prefixed(prefixes)

    def finder(text: str, low: str) -> Iterator[Candidate]:
        for regex in regexes:
            for m in regex.finditer(text):
                # Vendors' documented examples (AKIAIOSFODNN7EXAMPLE) are not secrets.
                if m.group(0).endswith("EXAMPLE"):
                    continue
                if not _after_token_char(text, m.start()):
                    yield _cand(kind, m.start(), m.end(), text, confidence)

    return Rule(kind, "secret", (kind,), gates or tuple(prefixes), False, finder)


_E = r"(?![A-Za-z0-9_])"  # not followed by a token character
_E_DASH = r"(?![A-Za-z0-9_\-])"

# Prefixes sharing their first characters are one regex (one pass over the text).
AWS_ACCESS_KEY_ID = _simple(
    "aws-access-key-id",
    {"A": r"(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16}" + _E},
    gates=("AKIA", "ASIA", "ABIA", "ACCA"),
)
GCP_API_KEY = _simple("gcp-api-key", {"AIza": r"[0-9A-Za-z_\-]{35}" + _E_DASH})
GITHUB_TOKEN = _simple(
    "github-token",
    {
        "gh": r"[pousr]_[A-Za-z0-9]{36,255}" + _E,
        "github_pat_": r"[A-Za-z0-9]{22}_[A-Za-z0-9]{59}" + _E,
    },
    gates=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
)
HUGGING_FACE_TOKEN = _simple("huggingface-token", {"hf_": r"[A-Za-z0-9]{34}" + _E})
ANTHROPIC_KEY = _simple(
    "anthropic-api-key", {"sk-ant-": r"[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_\-]{32,200}" + _E_DASH}
)
SLACK_TOKEN = _simple(
    "slack-token",
    {"xox": r"[baprs]-[0-9]{6,20}-[0-9A-Za-z\-]{8,255}" + _E},
)
SLACK_WEBHOOK = _simple(
    "slack-webhook",
    {
        "https://hooks.slack.com/services/": r"T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}"
        + _E
    },
)
STRIPE_KEY = _simple(
    "stripe-live-key", dict.fromkeys(("sk_live_", "rk_live_"), r"[0-9A-Za-z]{20,99}" + _E)
)

_OPENAI = re.compile(
    r"sk-(?:(proj|svcacct|admin)-[A-Za-z0-9_\-]{40,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"
    r"|[A-Za-z0-9]{32,64})(?![A-Za-z0-9_\-])"
)


def _openai(text: str, low: str) -> Iterator[Candidate]:
    for m in _OPENAI.finditer(text):
        if _after_token_char(text, m.start()):
            continue
        body = m.group(0)
        if m.group(1) or "T3BlbkFJ" in body:
            yield _cand("openai-api-key", m.start(), m.end(), text, "high")
        elif shannon_entropy(body[3:]) >= 3.5:
            # Bare ``sk-`` + 32-64 alphanumerics: other vendors use ``sk-`` too.
            yield _cand("openai-api-key", m.start(), m.end(), text, "medium")


OPENAI_KEY = Rule("openai-api-key", "secret", ("openai-api-key",), ("sk-",), False, _openai)

_PEM = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?"
    r"PRIVATE KEY(?: BLOCK)?)-----"
)


# The start of a key's body: optional RFC 1421 headers, then a line of base64.
_PEM_BODY = re.compile(r"\s*(?:[A-Za-z-]+: [^\n]*\n\s*)*[A-Za-z0-9+/=]{40,}")


def _pem(text: str, low: str) -> Iterator[Candidate]:
    for m in _PEM.finditer(text):
        end_marker = f"-----END {m.group(1)}-----"
        # The END line of this key, not of a later one: a block never holds another BEGIN.
        limit = text.find("-----BEGIN ", m.end(), m.end() + 20_000)
        end = text.find(end_marker, m.end(), limit if limit >= 0 else m.end() + 20_000)
        if end >= 0:
            yield _cand("private-key", m.start(), end + len(end_marker), text, "high")
        elif _PEM_BODY.match(text, m.end(), m.end() + 2_000):
            # A body without its END line: a key cut short (a log line, a truncated cell).
            yield _cand("private-key", m.start(), m.end(), text, "medium")
        # A header alone (a constant naming the format) is not a key.


PRIVATE_KEY = Rule("private-key", "secret", ("private-key",), ("-----BEGIN ",), False, _pem)

# Parts are capped (header and signature 1 KiB, payload 8 KiB) so that text full of ``eyJ``
# cannot make the scan quadratic.
_JWT = re.compile(
    r"(eyJ[A-Za-z0-9_\-]{8,1024})\.([A-Za-z0-9_\-]{8,8192})\.([A-Za-z0-9_\-]{0,1024})"
)


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _jwt(text: str, low: str) -> Iterator[Candidate]:
    for m in _JWT.finditer(text):
        if _after_token_char(text, m.start()):
            continue
        header = _b64url_json(m.group(1))
        if not isinstance(header, dict) or "alg" not in header:
            continue
        if m.end() < len(text) and text[m.end()] in "._-=":
            continue
        signed = bool(m.group(3)) and str(header.get("alg")).lower() != "none"
        yield _cand("jwt", m.start(), m.end(), text, "high" if signed else "medium")


JWT = Rule("jwt", "secret", ("jwt",), ("eyJ",), False, _jwt)

_DB_SCHEME = re.compile(
    r"(?<![A-Za-z0-9+])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql"
    r"|sqlserver|oracle|cockroachdb)(?:\+[a-z0-9]+)?$"
)
_DB_REST = re.compile(r"([^:/\s@\"'<>]{1,128}):([^@\s\"'<>]{1,256})@[A-Za-z0-9.\-\[\]]+")
_PLACEHOLDER = re.compile(
    r"^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|%\(.*\)s|<.*>|\*+|x+|\.\.\.|pass(?:word)?|"
    r"pwd|secret|changeme|example|your[_-]?password|test|user|root|admin)$",
    re.IGNORECASE,
)


def _db_url(text: str, low: str) -> Iterator[Candidate]:
    i = text.find("://")
    while i >= 0:
        scheme = _DB_SCHEME.search(text, max(0, i - 24), i)
        rest = _DB_REST.match(text, i + 3) if scheme else None
        if scheme and rest and not _PLACEHOLDER.match(rest.group(2)):
            yield _cand("database-url-password", scheme.start(), rest.end(), text, "high")
        i = text.find("://", i + 3)


DATABASE_URL = Rule(
    "database-url-password",
    "secret",
    ("database-url-password",),
    ("://",),
    False,
    _db_url,
)

_AZURE = _compile_prefixed(
    dict.fromkeys(("AccountKey=", "AccessKey="), r"([A-Za-z0-9+/]{40,100}={0,2})(?![A-Za-z0-9+/=])")
)


def _azure(text: str, low: str) -> Iterator[Candidate]:
    for m in (m for regex in _AZURE for m in regex.finditer(text)):
        if shannon_entropy(m.group(1)) < 4.0:
            continue
        # Report the whole connection string when the key sits in one.
        lo = max(0, m.start() - 500)
        line_start = max(lo, text.rfind("\n", lo, m.start()) + 1)
        conn = text.rfind("DefaultEndpointsProtocol=", line_start, m.start())
        if conn < 0:
            conn = text.rfind("Endpoint=", line_start, m.start())
        start = conn if conn >= 0 else m.start()
        yield _cand("azure-storage-key", start, m.end(), text, "high")


AZURE_KEY = Rule(
    "azure-storage-key",
    "secret",
    ("azure-storage-key",),
    ("AccessKey=", "AccountKey="),
    False,
    _azure,
)

# -- tokens named key / token / secret / password -----------------------------------------

# Run on the lower-cased text, one regex per name (a literal prefix is fast to skip to), the
# assignment included so that ``re``, not Python, rejects the many names with no value.
_KEYWORDS = ("key", "secret", "token", "passwd", "password", "pwd", "credential")
_ASSIGNED = r"[a-z0-9_.\-]{0,40}[\"'\]]?\s{0,3}(?:=>|:=|:|=)\s{0,3}[\[{(]?\s{0,2}[\"'`]?"
_VALUE = r"([a-z0-9+/_\-=.~]{16,512})"
_KEYED = [re.compile(re.escape(k) + _ASSIGNED + _VALUE) for k in _KEYWORDS]
_HEX = re.compile(r"[0-9a-fA-F]+")
_NOT_A_SECRET = ("xxxx", "example", "your", "changeme", "placeholder", "dummy", "redacted")


def looks_random(value: str) -> bool:
    """Whether ``value`` looks like a random token (hex or base64-ish) rather than a word."""
    if len(value) < 16:
        return False
    low = value.lower()
    if any(w in low for w in _NOT_A_SECRET):
        return False
    if _HEX.fullmatch(value):
        return len(value) >= 20 and shannon_entropy(value) >= 3.0
    digits = sum(c.isdigit() for c in value)
    upper = sum(c.isupper() for c in value)
    lower = sum(c.islower() for c in value)
    if not upper + lower:
        return False
    if not digits:
        # Letters only: random when the cases are well mixed (not CamelCase words).
        if not 0.25 <= upper / (upper + lower) <= 0.75 or len(value) < 20:
            return False
        return shannon_entropy(value) >= 4.0
    entropy = shannon_entropy(value)
    # Dotted names and paths (``os.environ.get``, ``a/b/c``) are not tokens, unless the
    # whole looks random (a base64 key can hold a few slashes).
    if (value.count(".") > 2 or value.count("/") > 3) and entropy < 4.5:
        return False
    return entropy >= 3.5


_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")


# Names that hold an identifier or a digest of a key, not the key: ``keyid`` (in-toto, DSSE),
# ``key_id``, ``public_key``, ``key_fingerprint``, ``token_hash``, ``tokenizer``.
_NAMED_NOT_SECRET = re.compile(
    r"(?:^|[_.\-])(?:ids?|uuid)$|keyid|key_id|public|pubkey|fingerprint|digest|hash|checksum"
    r"|sha\d|tokeniz|keyword|monkey|turkey|donkey"
)
_NAME_CHAR = re.compile(r"[a-z0-9_.\-]")
_NAME_END = re.compile(r"[a-z0-9_.\-]*")


def _name(low: str, at: int) -> str:
    """The whole name around the keyword that starts at ``at`` (``api_key``, ``keyid``)."""
    start = at
    while start > 0 and at - start < 60 and _NAME_CHAR.match(low, start - 1):
        start -= 1
    end = _NAME_END.match(low, at)
    return low[start : end.end() if end else at]


# ``model.config.id2label``, ``self.tokenizer``: a dotted path of identifiers is code.
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _code_expression(text: str, value: str, start: int, end: int) -> bool:
    """Whether the value assigned to a secret-sounding name is code, not a literal: a call
    (``Qwen2Token2WavConfig()``), a subscript (``vocab[...]``), or a dotted attribute path."""
    after = text[end : end + 1]
    quoted = start > 0 and text[start - 1] in "\"'`"
    if not quoted and after in ("(", "["):
        return True
    return not quoted and _DOTTED_NAME.fullmatch(value) is not None


def _keyed(text: str, low: str) -> Iterator[Candidate]:
    for k in (k for regex in _KEYED for k in regex.finditer(low)):
        if _NAMED_NOT_SECRET.search(_name(low, k.start())):
            continue
        raw = text[k.start(1) : k.end(1)]
        value = raw.rstrip(".=") if not raw.endswith("==") else raw
        start = k.start(1)
        end = start + len(value)
        if _code_expression(text, value, k.start(1), end) or not looks_random(value):
            continue
        context = low[max(0, k.start() - 40) : k.end()]
        aws_named = "aws" in context or "secret_access_key" in context
        if aws_named and _AWS_SECRET.fullmatch(value):
            yield _cand("aws-secret-access-key", start, end, text, "high")
        else:
            c = _cand("generic-secret", start, end, text, "medium")
            yield Candidate(c.kind, c.category, c.start, c.end, c.confidence, c.preview, _GENERIC)


KEYED_TOKEN = Rule(
    "generic-secret",
    "secret",
    ("generic-secret", "aws-secret-access-key"),
    ("key", "secret", "token", "passw", "pwd", "credential"),
    True,
    _keyed,
)

SECRET_RULES: tuple[Rule, ...] = (
    AWS_ACCESS_KEY_ID,
    GCP_API_KEY,
    AZURE_KEY,
    GITHUB_TOKEN,
    HUGGING_FACE_TOKEN,
    OPENAI_KEY,
    ANTHROPIC_KEY,
    SLACK_TOKEN,
    SLACK_WEBHOOK,
    STRIPE_KEY,
    PRIVATE_KEY,
    JWT,
    DATABASE_URL,
    KEYED_TOKEN,
)
