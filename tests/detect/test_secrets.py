"""Secret detectors: every provider format, keyed tokens, no hits on prose, redaction."""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from pathlib import Path

import pytest

from ssdf_ai.detect import Detector, Hit, looks_random, scan_lines, scan_text, shannon_entropy

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def _rand(r: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def _b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _jwt(r: random.Random) -> str:
    header = _b64url({"alg": "HS256", "typ": "JWT"})
    return (
        f"{header}.{_b64url({'sub': '1234567890', 'iat': 1700000000})}.{_rand(r, 43, ALNUM + '-_')}"
    )


# (expected kind, builder of (line, secret)) -- fake tokens with valid shapes, random bodies.
FORMATS: dict[str, tuple[str, Callable[[random.Random], tuple[str, str]]]] = {
    "aws-id": (
        "aws-access-key-id",
        lambda r: _line(
            "export AWS_ACCESS_KEY_ID={}", "AKIA" + _rand(r, 16, "ABCDEFGHJKLMNPQRSTUVWXYZ234567")
        ),
    ),
    "aws-sts-id": (
        "aws-access-key-id",
        lambda r: _line("id {} here", "ASIA" + _rand(r, 16, "ABCDEFGHJKLMNPQRSTUVWXYZ234567")),
    ),
    "aws-secret": (
        "aws-secret-access-key",
        lambda r: _line('aws_secret_access_key = "{}"', _rand(r, 40, B64)),
    ),
    "gcp": ("gcp-api-key", lambda r: _line("key={}&q=1", "AIza" + _rand(r, 35, ALNUM + "-_"))),
    "azure": (
        "azure-storage-key",
        lambda r: _line(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={};EndpointSuffix=x",
            _rand(r, 86, B64) + "==",
        ),
    ),
    "azure-servicebus": (
        "azure-storage-key",
        lambda r: _line(
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={}",
            _rand(r, 43, B64) + "=",
        ),
    ),
    "github-ghp": ("github-token", lambda r: _line("token: {}", "ghp_" + _rand(r, 36))),
    "github-gho": ("github-token", lambda r: _line("{}", "gho_" + _rand(r, 36))),
    "github-ghs": ("github-token", lambda r: _line("x {} y", "ghs_" + _rand(r, 36))),
    "github-pat": (
        "github-token",
        lambda r: _line("GH={}", "github_pat_" + _rand(r, 22) + "_" + _rand(r, 59)),
    ),
    "huggingface": (
        "huggingface-token",
        lambda r: _line("login(token='{}')", "hf_" + _rand(r, 34, string.ascii_letters)),
    ),
    "openai-proj": (
        "openai-api-key",
        lambda r: _line('OpenAI(api_key="{}")', "sk-proj-" + _rand(r, 120, ALNUM + "-_")),
    ),
    "openai-legacy": (
        "openai-api-key",
        lambda r: _line("OPENAI_API_KEY={}", "sk-" + _rand(r, 20) + "T3BlbkFJ" + _rand(r, 20)),
    ),
    "anthropic": (
        "anthropic-api-key",
        lambda r: _line("key {}", "sk-ant-api03-" + _rand(r, 93, ALNUM + "-_") + "AA"),
    ),
    "slack-token": (
        "slack-token",
        lambda r: _line(
            "SLACK_BOT_TOKEN={}",
            f"xoxb-{_rand(r, 12, string.digits)}-{_rand(r, 13, string.digits)}-{_rand(r, 24)}",
        ),
    ),
    "slack-webhook": (
        "slack-webhook",
        lambda r: _line(
            "post to {} now",
            f"https://hooks.slack.com/services/T{_rand(r, 9, string.ascii_uppercase)}"
            f"/B{_rand(r, 9, string.ascii_uppercase)}/{_rand(r, 24)}",
        ),
    ),
    "stripe-sk": (
        "stripe-live-key",
        lambda r: _line("stripe.api_key = '{}'", "sk_live_" + _rand(r, 24)),
    ),
    "stripe-rk": ("stripe-live-key", lambda r: _line("{}", "rk_live_" + _rand(r, 99))),
    "pem": (
        "private-key",
        lambda r: _line(
            "{}",
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + _rand(r, 64, B64)
            + "\n-----END RSA PRIVATE KEY-----",
        ),
    ),
    "pem-openssh": (
        "private-key",
        lambda r: _line("{}", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + _rand(r, 70, B64)),
    ),
    "jwt": ("jwt", lambda r: _line("Authorization: Bearer {}", _jwt(r))),
    "postgres": (
        "database-url-password",
        lambda r: _line("DATABASE_URL={}", f"postgres://app:{_rand(r, 16)}@db.internal/prod"),
    ),
    "mongodb": (
        "database-url-password",
        lambda r: _line("uri = '{}'", f"mongodb+srv://svc:{_rand(r, 20)}@cluster0.mongodb.net/x"),
    ),
    "keyed-hex": ("generic-secret", lambda r: _line('api_token = "{}"', _rand(r, 32, HEX))),
    "keyed-b64": ("generic-secret", lambda r: _line("SECRET_KEY: {}", _rand(r, 40, B64))),
    "keyed-password": ("generic-secret", lambda r: _line('"password": "{}",', _rand(r, 24) + "7Q")),
}


def _line(template: str, secret: str) -> tuple[str, str]:
    return template.format(secret), secret


def _secret_hits(text: str) -> list[Hit]:
    return [h for h in scan_text(text) if h.category == "secret"]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_is_found_and_redacted(name: str) -> None:
    kind, build = FORMATS[name]
    r = random.Random(name)
    for _ in range(5):
        line, secret = build(r)
        text = f"Some prose before.\n{line}\nAnd after.\n"
        hits = _secret_hits(text)
        assert [h.kind for h in hits] == [kind], (line, hits)
        hit = hits[0]
        assert hit.line == 2
        assert (
            text[hit.start : hit.end].find(secret[:20]) >= 0
            or secret.find(text[hit.start : hit.end][:20]) >= 0
        )
        # Redaction: at most 4 leading characters and an ellipsis, never the secret.
        assert hit.preview.endswith("…")
        assert len(hit.preview) <= 5
        assert secret not in hit.preview
        assert secret not in repr(hit)


def test_line_and_column_and_stream_offsets() -> None:
    r = random.Random(3)
    token = "ghp_" + _rand(r, 36)
    lines = ["first line\n", "second\n", f"  x = {token}\n", "last"]
    text = "".join(lines)
    [hit] = scan_text(text)
    assert (hit.line, hit.column) == (3, 7)
    assert text[hit.start : hit.end] == token
    assert list(scan_lines(lines)) == [hit]
    # Lines without their newline are taken as whole lines too.
    stripped = [x.rstrip("\n") for x in lines]
    [streamed] = scan_lines(stripped)
    assert (streamed.line, streamed.column, streamed.start) == (3, 7, hit.start)


def test_stream_of_many_lines_keeps_offsets() -> None:
    r = random.Random(4)
    lines = [f"line {i} of ordinary words\n" for i in range(20_000)]
    for i in (5, 4_321, 19_999):
        lines[i] = f"key AKIA{_rand(r, 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}\n"
    text = "".join(lines)
    assert list(scan_lines(lines)) == scan_text(text)
    assert [h.line for h in scan_text(text)] == [6, 4_322, 20_000]


def test_jwt_needs_a_json_header_with_alg() -> None:
    r = random.Random(5)
    no_alg = _b64url({"typ": "JWT"}) + "." + _b64url({"sub": "x"}) + "." + _rand(r, 43)
    not_json = "eyJ" + _rand(r, 30) + "." + _rand(r, 30) + "." + _rand(r, 30)
    assert _secret_hits(f"token {no_alg}") == []
    assert _secret_hits(f"value {not_json}") == []
    unsigned = _b64url({"alg": "none"}) + "." + _b64url({"sub": "x"}) + "."
    [hit] = _secret_hits(f"t {unsigned} t")
    assert hit.confidence == "medium"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:${DB_PASSWORD}@localhost/db",
        "postgres://user:password@localhost/db",
        "mysql://root:<password>@db/app",
        "postgres://user:****@host/db",
        "postgres://localhost:5432/db",
        "https://user:abcdefgh1234@example.com/",
    ],
)
def test_database_url_placeholders_are_not_secrets(url: str) -> None:
    assert _secret_hits(f"url = {url}\n") == []


@pytest.mark.parametrize(
    "line",
    [
        "fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b last week",
        "the file's sha256 is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "run id 123e4567-e89b-12d3-a456-426614174000 finished",
        "token = os.environ['API_TOKEN']",
        "    password = get_password(user)",
        "SECRET_KEY = settings.SECRET_KEY",
        'api_key = "your-api-key-here-xxxxxxxx"',
        'password = "changeme_changeme_123"',
        "class AbstractTokenFactoryBean: pass",
        'token: "AbstractTokenFactoryBean"',
        "the token was valid, the secret is safe, and the password: see the vault",
        "sk-this-is-not-a-key and ghp_short",
        "aws docs use AKIAIOSFODNN7EXAMPLE as the example access key id",
        "path = '/usr/local/lib/python3.11/site-packages/x'",
    ],
)
def test_decoys_are_not_secrets(line: str) -> None:
    assert _secret_hits(line) == []


PROSE = """\
The quick brown fox jumps over the lazy dog. Security reviews of a machine learning pipeline
look at the data, the training code and the model that comes out of it; each step keeps
evidence of what was done, by whom and when. A secret, in this sense, is anything that grants
access: a key, a token or a password. Tokens that expire quickly are safer than long-lived ones,
and a password manager is better than a sticky note.

Version 2.4.1 was released on 2024-03-15 with 1,234 fixes; see issue #5678 and commit
3f786850e387550fdab836ed7e6dc881de23001b for details. The model reached 92.5% accuracy after
12 epochs at a learning rate of 0.0003, and the checkpoint's SHA-256 was recorded in the
manifest. Call the help desk at extension 4412 if the build fails twice.

Ignore the warnings about deprecated options for now; they are harmless. The system will
restart at midnight. You are now ready to run the evaluation, and the previous section explains
why the instructions changed. The tokenizer splits text into subword tokens before training.
"""

SOURCE = '''\
import os
from pathlib import Path

API_KEY_ENV = "SSDF_API_KEY"


def load_token(path: Path) -> str:
    """Read the access token from ``path`` (never log it)."""
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise ValueError("empty token file")
    return token


def connect(password: str | None = None) -> None:
    password = password or os.environ.get("DB_PASSWORD", "")
    secret_key = os.environ["SECRET_KEY"]
    url = f"postgres://{user}:{password}@{host}/{db}"
    headers = {"Authorization": f"Bearer {token}"}
    print(len(secret_key), url, headers)
'''


def test_no_hits_on_prose_and_source() -> None:
    assert scan_text(PROSE) == []
    assert scan_text(SOURCE) == []
    assert list(scan_lines(PROSE.splitlines(keepends=True))) == []


def test_project_docs_have_no_confident_secrets(repo_root: Path) -> None:
    docs = sorted((repo_root / "docs").glob("*.md"))
    assert docs
    for doc in docs:
        hits = scan_text(doc.read_text(encoding="utf-8"), kinds={"secret"})
        high = [h for h in hits if h.at_least("high")]
        assert high == [], (doc.name, high)


def test_kinds_select_detectors() -> None:
    r = random.Random(6)
    text = f"ghp_{_rand(r, 36)} mail a.b@example.com AKIA{_rand(r, 16, 'ABCDEFGHIJKLMNOP')}"
    assert {h.kind for h in scan_text(text)} == {"github-token", "email", "aws-access-key-id"}
    assert {h.kind for h in scan_text(text, kinds={"secret"})} == {
        "github-token",
        "aws-access-key-id",
    }
    assert [h.kind for h in scan_text(text, kinds=["email"])] == ["email"]
    assert Detector(kinds={"pii"}).kinds >= {"email", "iban", "payment-card"}
    with pytest.raises(ValueError, match="unknown detector kinds: nope"):
        Detector(kinds={"nope"})


def test_provider_token_wins_over_generic_keyed_token() -> None:
    r = random.Random(7)
    token = "ghp_" + _rand(r, 36)
    [hit] = scan_text(f'GITHUB_TOKEN = "{token}"')
    assert hit.kind == "github-token"
    url = f"postgres://app:{_rand(r, 16)}@db.example.com/prod"
    assert [h.kind for h in scan_text(f"url {url}")] == ["database-url-password"]


def test_base64_key_with_slashes_is_still_a_key() -> None:
    value = "t/kAEplUF/KXneTNs3n0tMfO2xoP/wHtFSTXQ/Fb"  # random, fake
    [hit] = scan_text(f'aws_secret_access_key = "{value}"')
    assert hit.kind == "aws-secret-access-key"


def test_entropy_helpers() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    r = random.Random(8)
    assert looks_random(_rand(r, 32, HEX))
    assert looks_random(_rand(r, 40, B64) + "1")
    assert not looks_random("0" * 32)
    assert not looks_random("my_secret_variable_name")
    assert not looks_random("short1")


def test_a_pem_header_alone_is_not_a_key_but_a_cut_short_key_is() -> None:
    """A constant naming the format has no body; a key cut off before its END line does."""
    assert scan_text('HEADER = b"-----BEGIN PRIVATE KEY-----"') == []
    assert scan_text("-----BEGIN OPENSSH PRIVATE KEY-----\n-----BEGIN PUBLIC KEY-----") == []
    body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7o"
    (cut,) = scan_text("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n" + body)
    assert (cut.kind, cut.confidence) == ("private-key", "medium")
    (whole,) = scan_text(f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----")
    assert whole.confidence == "high"


@pytest.mark.parametrize(
    "line",
    [
        '"keyid":"d6fb4efa7e9584ec98974fc1b054a7f52c24fd93d73d3985fa5c2e775e13e034"',
        "API_KEY_ID=AKd6fb4efa7e9584ec98974f",
        'token_hash = "d6fb4efa7e9584ec98974fc1b054a7f52c24fd93d"',
        'public_key: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"',
    ],
)
def test_names_of_key_ids_and_digests_are_not_secrets(line: str) -> None:
    """A DSSE envelope's ``keyid`` is a digest of a public key, not a credential."""
    assert scan_text(line) == []


def test_the_same_values_under_a_secret_name_are() -> None:
    (hit,) = scan_text('api_key = "d6fb4efa7e9584ec98974fc1b054a7f52c24fd93d"')
    assert hit.kind == "generic-secret"


@pytest.mark.parametrize(
    "line",
    [
        ">>> predicted_tokens_classes = [model.config.id2label[t.item()] for t in ids[0]]",
        ">>> token2wav_config = Qwen2_5OmniToken2WavConfig()",
        "secret_value = self.vault.read_secret_version",
        "token_ids = vocab[Qx8vLm2Pz9Rt4Vw7Yb1Nc6K]",
    ],
)
def test_code_assigned_to_a_secret_sounding_name_is_not_a_secret(line: str) -> None:
    """Lines from transformers' own docstrings: a call, a subscript or an attribute path."""
    assert scan_text(line) == []


def test_a_quoted_dotted_value_is_still_read_as_a_literal() -> None:
    (hit,) = scan_text('api_token = "Qx8vLm2Pz9Rt4Vw7Yb1Nc6K.a8Zq3"')
    assert hit.kind == "generic-secret"
