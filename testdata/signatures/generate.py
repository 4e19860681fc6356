#!/usr/bin/env python3
"""Regenerates vectors.json: signature test vectors computed independently of the C# code.

Run from anywhere: `python3 testdata/signatures/generate.py`. Only the standard library is used, and the
rules implemented here are written from DESIGN.md section 2 and the Standard Webhooks specification, not
from Hookline.Receiver, so the two implementations check each other.

Rules, as implemented below:
- X-Razorpay-Signature: lowercase hex HMAC-SHA256 of the raw body, key = UTF-8 bytes of the whole secret
  (a `whsec_` prefix included).
- webhook-signature: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`; key = base64-decoded
  remainder when the secret is `whsec_` + canonical padded base64, else the UTF-8 bytes of the secret.
- Standard Webhooks verification: any of id, timestamp, signature missing or empty -> MissingHeaders;
  timestamp not all ASCII digits (or beyond a signed 64-bit integer) -> InvalidTimestamp;
  |now - timestamp| > tolerance -> TimestampOutOfTolerance; then the header is split on spaces, entries
  whose version is not exactly `v1` are ignored, and any entry matching any secret -> Valid, else
  NoMatchingSignature.
"""

import base64
import hashlib
import hmac
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "vectors.json")

BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
INT64_MAX = 2**63 - 1


def fixed_bytes(label, n):
    """Deterministic 'random-looking' bytes, so the file is stable across regenerations."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def whsec(label, n=32):
    return "whsec_" + base64.b64encode(fixed_bytes(label, n)).decode("ascii")


def razorpay_signature(body, secret):
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def standard_key(secret):
    if secret.startswith("whsec_"):
        rest = secret[len("whsec_"):]
        if rest and BASE64.fullmatch(rest):
            return base64.b64decode(rest, validate=True)
    return secret.encode("utf-8")


def standard_mac(msg_id, timestamp, body, secret):
    content = f"{msg_id}.{timestamp}.".encode("utf-8") + body
    return hmac.new(standard_key(secret), content, hashlib.sha256).digest()


def standard_signature(msg_id, timestamp, body, secret):
    return "v1," + base64.b64encode(standard_mac(msg_id, timestamp, body, secret)).decode("ascii")


def standard_verify(msg_id, timestamp, header, body, secrets, now, tolerance):
    if not msg_id or not timestamp or not header:
        return "MissingHeaders"
    if not re.fullmatch(r"[0-9]+", timestamp, flags=re.ASCII) or int(timestamp) > INT64_MAX:
        return "InvalidTimestamp"
    sent = int(timestamp)
    if sent < now - tolerance or sent > now + tolerance:
        return "TimestampOutOfTolerance"
    expected = [standard_mac(msg_id, timestamp, body, s) for s in secrets]
    for entry in header.split(" "):
        version, comma, value = entry.partition(",")
        if version != "v1" or not comma or not BASE64.fullmatch(value):
            continue
        given = base64.b64decode(value, validate=True)
        if any(hmac.compare_digest(given, e) for e in expected):
            return "Valid"
    return "NoMatchingSignature"


def razorpay_verify(body, signature, secrets):
    if not re.fullmatch(r"[0-9a-fA-F]{64}", signature, flags=re.ASCII):
        return False
    given = bytes.fromhex(signature)
    return any(hmac.compare_digest(given, bytes.fromhex(razorpay_signature(body, s))) for s in secrets)


def body_fields(body, repeat=None):
    """How a body is written in the file: UTF-8 text when it is valid UTF-8, else base64; a large
    repeated body as its recipe."""
    if repeat is not None:
        text, count = repeat
        assert body == text.encode("utf-8") * count
        return {"body_repeat": {"text": text, "count": count}}
    try:
        return {"body_utf8": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode("ascii")}


def minified(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


PAYMENT = {
    "entity": "event",
    "account_id": "acc_BFQ7uQEaa7j2z7",
    "event": "payment.captured",
    "contains": ["payment"],
    "payload": {
        "payment": {
            "entity": {
                "id": "pay_DESlfW9H8K9uqM",
                "entity": "payment",
                "amount": 100,
                "currency": "INR",
                "status": "captured",
                "method": "netbanking",
                "captured": True,
                "description": None,
                "notes": [],
                "email": "gaurav.kumar@example.com",
                "contact": "+919876543210",
                "created_at": 1567674599,
            }
        }
    },
    "created_at": 1567674606,
}

UNICODE_PAYMENT = {
    "entity": "event",
    "account_id": "acc_BFQ7uQEaa7j2z7",
    "event": "order.paid",
    "contains": ["order"],
    "payload": {
        "order": {
            "entity": {
                "id": "order_DESlLckIVRkHWj",
                "notes": {
                    "customer": "Zoë Ångström",
                    "city": "मुंबई",
                    "greeting": "こんにちは",
                    "emoji": "💳✅",
                    "quote": "he said \"paid\" \\ done\n",
                    "html": "<b>&'+`/</b>",
                },
                "amount": 50000,
            }
        }
    },
    "created_at": 1700000000,
}

PLAIN = "12345678"
PLAIN_2 = "a-plain-webhook-secret-of-moderate-length"
WHSEC = whsec("hookline/vectors/whsec-1")
WHSEC_OLD = whsec("hookline/vectors/whsec-old")
WHSEC_NEW = whsec("hookline/vectors/whsec-new")
MSG = "evt_Hk9sPq2LmN4xYz"


def signing_vectors():
    body_payment = minified(PAYMENT)
    body_unicode = minified(UNICODE_PAYMENT)
    large_repeat = ('{"k":"0123456789abcdef"},', 40000)
    large = large_repeat[0].encode("utf-8") * large_repeat[1]

    cases = [
        ("plain secret, envelope body", PLAIN, MSG, 1567674606, body_payment, None),
        ("whsec secret, envelope body", WHSEC, MSG, 1567674606, body_payment, None),
        ("plain secret, empty body", PLAIN_2, MSG, 1700000000, b"", None),
        ("whsec secret, empty body", WHSEC, MSG, 1700000000, b"", None),
        ("plain secret, unicode body", PLAIN, MSG, 1700000000, body_unicode, None),
        ("whsec secret, unicode body", WHSEC, MSG, 1700000000, body_unicode, None),
        ("unicode secret", "sécret-ключ-🔑", MSG, 1700000000, body_payment, None),
        ("plain secret longer than the HMAC block", "s" * 100 + "-long", MSG, 1700000000, body_payment, None),
        ("whsec secret, large body (1 MB)", WHSEC, MSG, 1700000123, large, large_repeat),
        ("timestamp zero", WHSEC, MSG, 0, b'{"a":1}', None),
        ("timestamp past 2038 (beyond 32 bits)", WHSEC, MSG, 4102444800, b'{"a":1}', None),
        ("whsec secret whose remainder is not base64 falls back to UTF-8",
         "whsec_not*base64!", MSG, 1700000000, body_payment, None),
        ("whsec secret with a 24-byte key", whsec("hookline/vectors/short", 24), MSG, 1700000000, body_payment, None),
        ("bare whsec_ prefix is used as UTF-8", "whsec_", MSG, 1700000000, body_payment, None),
        ("body that is not UTF-8", WHSEC, MSG, 1700000000, b"\xff\xfe\x00binary\x80", None),
        ("Standard Webhooks specification example",
         "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
         b'{"test": 2432232314}', None),
    ]
    out = []
    for name, secret, msg_id, ts, body, repeat in cases:
        out.append({
            "name": name,
            "secret": secret,
            "message_id": msg_id,
            "timestamp": ts,
            **body_fields(body, repeat),
            "razorpay_signature": razorpay_signature(body, secret),
            "standard_key_base64": base64.b64encode(standard_key(secret)).decode("ascii"),
            "standard_signature": standard_signature(msg_id, ts, body, secret),
        })
    return out


def razorpay_verify_vectors():
    body = minified(PAYMENT)
    good = razorpay_signature(body, PLAIN)
    flipped = good[:10] + ("0" if good[10] != "0" else "1") + good[11:]
    cases = [
        ("matching signature", [PLAIN], body, good),
        ("uppercase hex", [PLAIN], body, good.upper()),
        ("one hex digit changed", [PLAIN], body, flipped),
        ("truncated signature", [PLAIN], body, good[:-2]),
        ("signature with an extra character", [PLAIN], body, good + "0"),
        ("non-hex character", [PLAIN], body, good[:-1] + "g"),
        ("tampered body", [PLAIN], body.replace(b"100", b"900"), good),
        ("wrong secret", [PLAIN_2], body, good),
        ("rotation: second candidate secret matches", [PLAIN_2, PLAIN], body, good),
        ("rotation: no candidate secret matches", [PLAIN_2, WHSEC], body, good),
        ("whsec secret used as a whole string", [WHSEC], body, razorpay_signature(body, WHSEC)),
        ("empty signature", [PLAIN], body, ""),
    ]
    return [
        {"name": n, "secrets": s, **body_fields(b), "signature": sig, "expected": razorpay_verify(b, sig, s)}
        for n, s, b, sig in cases
    ]


def standard_verify_vectors():
    body = minified(PAYMENT)
    now = 1700000000
    tol = 300
    sig_new = standard_signature(MSG, str(now), body, WHSEC_NEW)
    sig_old = standard_signature(MSG, str(now), body, WHSEC_OLD)
    sig_plain = standard_signature(MSG, str(now), body, PLAIN)

    def at(ts, secret=WHSEC_NEW):
        return standard_signature(MSG, str(ts), body, secret)

    cases = [
        ("single matching signature", [WHSEC_NEW], MSG, str(now), sig_new),
        ("plain secret", [PLAIN], MSG, str(now), sig_plain),
        ("rotation: old and new signatures, receiver has the new secret", [WHSEC_NEW], MSG, str(now),
         f"{sig_old} {sig_new}"),
        ("rotation: old and new signatures, receiver still has the old secret", [WHSEC_OLD], MSG, str(now),
         f"{sig_old} {sig_new}"),
        ("rotation: receiver tries both secrets against one signature", [WHSEC_OLD, WHSEC_NEW], MSG, str(now),
         sig_new),
        ("unknown versions are skipped", [WHSEC_NEW], MSG, str(now),
         "v2,AAAA v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl " + sig_new),
        ("only unknown versions", [WHSEC_NEW], MSG, str(now), "v1a," + sig_new[3:]),
        ("double space between signatures", [WHSEC_NEW], MSG, str(now), f"{sig_old}  {sig_new}"),
        ("wrong secret", [WHSEC_OLD], MSG, str(now), sig_new),
        ("signature that is not base64", [WHSEC_NEW], MSG, str(now), "v1,!!!not-base64!!!"),
        ("signature of a different message id", [WHSEC_NEW], "evt_Other00000000", str(now), sig_new),
        ("timestamp at the old edge of tolerance", [WHSEC_NEW], MSG, str(now - tol), at(now - tol)),
        ("timestamp one second too old", [WHSEC_NEW], MSG, str(now - tol - 1), at(now - tol - 1)),
        ("timestamp at the new edge of tolerance", [WHSEC_NEW], MSG, str(now + tol), at(now + tol)),
        ("timestamp one second too new", [WHSEC_NEW], MSG, str(now + tol + 1), at(now + tol + 1)),
        ("timestamp not a number", [WHSEC_NEW], MSG, "17e8", sig_new),
        ("negative timestamp", [WHSEC_NEW], MSG, "-1700000000", sig_new),
        ("timestamp beyond 64 bits", [WHSEC_NEW], MSG, "99999999999999999999", sig_new),
        ("missing id", [WHSEC_NEW], None, str(now), sig_new),
        ("missing timestamp", [WHSEC_NEW], MSG, None, sig_new),
        ("empty signature header", [WHSEC_NEW], MSG, str(now), ""),
    ]
    return [
        {
            "name": n, "secrets": s, "message_id": m, "timestamp": t, "signature_header": h,
            **body_fields(body), "now": now, "tolerance_seconds": tol,
            "expected": standard_verify(m, t, h, body, s, now, tol),
        }
        for n, s, m, t, h in cases
    ]


def diagnosis_vectors():
    """Bodies as a receiver might hold them after its framework parsed and re-serialised the JSON."""
    sent = minified(UNICODE_PAYMENT)
    sig = razorpay_signature(sent, PLAIN)
    cases = [
        ("the bytes that were sent", PLAIN, sent, sig, "Valid"),
        ("Python json.dumps defaults (spaces, ASCII escapes)", PLAIN,
         json.dumps(UNICODE_PAYMENT).encode("utf-8"), sig, "BodyReserialized"),
        ("JavaScript JSON.stringify(body, null, 2)", PLAIN,
         json.dumps(UNICODE_PAYMENT, indent=2, ensure_ascii=False).encode("utf-8"), sig, "BodyReserialized"),
        ("indented with 4 spaces and ASCII escapes", PLAIN,
         json.dumps(UNICODE_PAYMENT, indent=4).encode("utf-8"), sig, "BodyReserialized"),
        ("saved by an editor with a final newline", PLAIN, sent + b"\n", sig, "BodyReserialized"),
        ("wrong secret", PLAIN_2, sent, sig, "WrongSecret"),
        ("content changed, not only formatting", PLAIN, sent.replace(b"50000", b"50001"), sig, "WrongSecret"),
        ("signature truncated", PLAIN, sent, sig[:40], "MalformedSignature"),
        ("a webhook-signature value instead of the hex signature", PLAIN, sent,
         standard_signature(MSG, "1700000000", sent, PLAIN), "MalformedSignature"),
        ("whsec secret: signed with the decoded key", WHSEC, sent,
         hmac.new(standard_key(WHSEC), sent, hashlib.sha256).hexdigest(), "KeyMismatch"),
    ]
    return [
        {"name": n, "secret": s, **body_fields(b), "signature": g, "expected": e}
        for n, s, b, g, e in cases
    ]


def main():
    vectors = {
        "comment": "Generated by generate.py in this folder; do not edit by hand. Bodies are body_utf8 "
                   "(the UTF-8 bytes of the string), body_base64, or body_repeat (text repeated count times).",
        "signing": signing_vectors(),
        "razorpay_verify": razorpay_verify_vectors(),
        "standard_verify": standard_verify_vectors(),
        "diagnosis": diagnosis_vectors(),
    }
    with open(OUT, "w", encoding="ascii", newline="\n") as f:
        json.dump(vectors, f, indent=2, ensure_ascii=True)
        f.write("\n")
    print(f"wrote {OUT}: " + ", ".join(f"{k} {len(v)}" for k, v in vectors.items() if isinstance(v, list)))


if __name__ == "__main__":
    main()
