#!/usr/bin/env python3
"""A minimal hashmarket API client that signs requests (standard library only).

    python3 hashmarket_client.py --base-url http://127.0.0.1:8080 \
        --key hmk_... --secret ... GET /v1/balances
    python3 hashmarket_client.py ... POST /v1/orders --body '{"market": "sha256-30d", ...}'
    python3 hashmarket_client.py --self-test     # checks the docs' test vector

The signing rules (docs/security.md):
    string_to_sign = timestamp_ms + "\n" + nonce + "\n" + METHOD + "\n"
                     + path_and_query + "\n" + hex(sha256(body))
    HM-Signature   = hex(HMAC-SHA256(secret as ASCII bytes, string_to_sign))
Sign the path and query exactly as you send them, and the body bytes exactly as
you send them: serialize the JSON once and send those bytes.
"""
import argparse
import hashlib
import hmac
import json
import secrets
import sys
import time
import urllib.error
import urllib.request


def string_to_sign(timestamp_ms, nonce, method, path_and_query, body):
    body_hash = hashlib.sha256(body).hexdigest()
    return f"{timestamp_ms}\n{nonce}\n{method.upper()}\n{path_and_query}\n{body_hash}"


def sign(secret, timestamp_ms, nonce, method, path_and_query, body):
    message = string_to_sign(timestamp_ms, nonce, method, path_and_query, body)
    return hmac.new(secret.encode("ascii"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(key, secret, method, path_and_query, body):
    timestamp_ms = str(int(time.time() * 1000))
    nonce = secrets.token_hex(16)
    return {
        "HM-Key": key,
        "HM-Timestamp": timestamp_ms,
        "HM-Nonce": nonce,
        "HM-Signature": sign(secret, timestamp_ms, nonce, method, path_and_query, body),
    }


def request(base_url, key, secret, method, path_and_query, body=b"", idempotency_key=None):
    """Sends one signed request; returns (status, parsed JSON or text)."""
    headers = signed_headers(key, secret, method, path_and_query, body)
    if body:
        headers["Content-Type"] = "application/json"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    req = urllib.request.Request(base_url.rstrip("/") + path_and_query, data=body or None,
                                 method=method.upper(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode("utf-8", "replace")
    if status == 401 and isinstance(payload, dict) and "string_to_sign" in payload:
        # The server shows what it signed: compare it with ours.
        ours = string_to_sign(headers["HM-Timestamp"], headers["HM-Nonce"], method, path_and_query, body)
        print(f"server signed: {payload['string_to_sign']!r}\nwe signed:     {ours!r}", file=sys.stderr)
    return status, payload


# The test vector published in docs/security.md.
VECTOR = {
    "secret": "6f1c3a5e9b7d2f4a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a",
    "timestamp_ms": "1700000000000",
    "nonce": "n-0001",
    "method": "POST",
    "path_and_query": "/v1/orders?market=sha256-30d",
    "body": b'{"market":"sha256-30d","side":"buy","hash_rate":"10 TH/s","price":"0.00000150","time_in_force":"gtc"}',
    "signature": "877e1ec0a0cb0e2d7ce63469df6d35f36eaeb8e2ea69c0b3bce32126d69dd4ee",
}


def self_test():
    got = sign(VECTOR["secret"], VECTOR["timestamp_ms"], VECTOR["nonce"], VECTOR["method"],
               VECTOR["path_and_query"], VECTOR["body"])
    if got != VECTOR["signature"]:
        print(f"self-test FAILED: {got} != {VECTOR['signature']}", file=sys.stderr)
        return 1
    print("self-test ok: the test vector's signature matches")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--key")
    parser.add_argument("--secret")
    parser.add_argument("--body", default="")
    parser.add_argument("--idempotency-key")
    parser.add_argument("method", nargs="?")
    parser.add_argument("path", nargs="?")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not (args.key and args.secret and args.method and args.path):
        parser.error("--key, --secret, METHOD and PATH are required")
    status, payload = request(args.base_url, args.key, args.secret, args.method, args.path,
                              args.body.encode("utf-8"), args.idempotency_key)
    print(status)
    print(json.dumps(payload, indent=2) if not isinstance(payload, str) else payload)
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
