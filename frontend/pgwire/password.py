"""Password verifiers as PostgreSQL stores them, and the SCRAM-SHA-256 arithmetic (RFC 5802, RFC 7677).

A SCRAM verifier is `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
(base64 fields); an MD5 one is `md5` + md5(password || user) in hex. Both
let the server check a password without keeping it; only SCRAM also
keeps a client that listens on the wire from replaying what it saw.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stringprep
import unicodedata
from dataclasses import dataclass

SCRAM_SHA_256 = "SCRAM-SHA-256"
SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS"
SCRAM_ITERATIONS = 4096
_SALT_BYTES = 16
_MD5_VERIFIER = re.compile(r"md5[0-9a-f]{32}")
_SCRAM_VERIFIER = re.compile(r"SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)")


@dataclass(frozen=True, slots=True)
class ScramSecret:
    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def saslprep(password: str) -> str:
    """RFC 4013 SASLprep, or the password unchanged when it is not a valid string for it (as libpq does)."""
    if password.isascii():
        return password
    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c))
    normalized = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22, stringprep.in_table_c3,
                  stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7,
                  stringprep.in_table_c8, stringprep.in_table_c9, stringprep.in_table_a1)
    if not normalized or any(check(c) for c in normalized for check in prohibited):
        return password
    rand_al = [stringprep.in_table_d1(c) for c in normalized]
    if any(rand_al) and (any(stringprep.in_table_d2(c) for c in normalized)
                         or not (rand_al[0] and rand_al[-1])):
        return password
    return normalized


def _salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", saslprep(password).encode("utf-8"), salt, iterations)


def scram_secret(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> ScramSecret:
    salted = _salted_password(password, salt, iterations)
    stored_key = hashlib.sha256(hmac_sha256(salted, b"Client Key")).digest()
    return ScramSecret(iterations, salt, stored_key, hmac_sha256(salted, b"Server Key"))


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    s = scram_secret(password, os.urandom(_SALT_BYTES) if salt is None else salt, iterations)
    return f"{SCRAM_SHA_256}${s.iterations}:{b64(s.salt)}${b64(s.stored_key)}:{b64(s.server_key)}"


def parse_scram_verifier(verifier: str) -> ScramSecret | None:
    m = _SCRAM_VERIFIER.fullmatch(verifier)
    if m is None:
        return None
    try:
        return ScramSecret(int(m[1]), base64.b64decode(m[2], validate=True), base64.b64decode(m[3], validate=True),
                           base64.b64decode(m[4], validate=True))
    except ValueError:
        return None


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_verifier(user: str, password: str) -> str:
    return "md5" + md5_hex(password.encode("utf-8") + user.encode("utf-8"))


def is_md5_verifier(secret: str) -> bool:
    return _MD5_VERIFIER.fullmatch(secret) is not None


def is_verifier(password: str) -> bool:
    """Whether a password given to CREATE/ALTER USER is already a verifier (as pg_dump writes them)."""
    return is_md5_verifier(password) or parse_scram_verifier(password) is not None


def encrypt_password(user: str, password: str, method: str) -> str:
    """The verifier to store for `password` under `password_encryption` `method` ("scram-sha-256" or "md5")."""
    if is_verifier(password):
        return password
    if method == "md5":
        return md5_verifier(user, password)
    return scram_verifier(password)


def check_cleartext(secret: str, user: str, password: str) -> bool:
    """Whether `password` matches the verifier `secret`."""
    scram = parse_scram_verifier(secret)
    if scram is not None:
        computed = scram_secret(password, scram.salt, scram.iterations)
        return hmac.compare_digest(computed.stored_key, scram.stored_key)
    if is_md5_verifier(secret):
        return hmac.compare_digest(md5_verifier(user, password), secret)
    return False


def md5_response_matches(secret: str, salt: bytes, response: str) -> bool:
    """Whether an MD5 password message answers the challenge `salt` for the verifier `secret`."""
    expected = "md5" + md5_hex(secret[3:].encode("ascii") + salt)
    return hmac.compare_digest(expected.encode("ascii"), response.encode("utf-8"))


def scram_proof_matches(secret: ScramSecret, auth_message: bytes, proof: bytes) -> bool:
    """Whether a client proof shows knowledge of the password behind `secret`."""
    signature = hmac_sha256(secret.stored_key, auth_message)
    if len(proof) != len(signature):
        return False
    client_key = bytes(a ^ b for a, b in zip(proof, signature))
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), secret.stored_key)


def scram_server_signature(secret: ScramSecret, auth_message: bytes) -> bytes:
    return hmac_sha256(secret.server_key, auth_message)


# Signature algorithms whose hash is not SHA-256, by the DER bytes of their OID (RFC 5929 section 4.1:
# tls-server-end-point hashes the certificate with its signature's hash, SHA-256 for MD5 and SHA-1).
_SIGNATURE_HASHES = {
    bytes.fromhex("2a864886f70d01010c"): "sha384",  # sha384WithRSAEncryption
    bytes.fromhex("2a864886f70d01010d"): "sha512",  # sha512WithRSAEncryption
    bytes.fromhex("2a8648ce3d040303"): "sha384",  # ecdsa-with-SHA384
    bytes.fromhex("2a8648ce3d040304"): "sha512",  # ecdsa-with-SHA512
}


def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER item at `pos`."""
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        return tag, pos, pos + first
    size = int.from_bytes(data[pos:pos + (first & 0x7F)], "big")
    pos += first & 0x7F
    return tag, pos, pos + size


def tls_server_end_point(certificate_der: bytes) -> bytes:
    """The channel-binding data `tls-server-end-point` of a server certificate."""
    # Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm SEQUENCE { OID, ... }, signature }
    _, body, _ = _der_item(certificate_der, 0)
    _, _, tbs_end = _der_item(certificate_der, body)
    _, algorithm, _ = _der_item(certificate_der, tbs_end)
    _, oid_start, oid_end = _der_item(certificate_der, algorithm)
    name = _SIGNATURE_HASHES.get(certificate_der[oid_start:oid_end], "sha256")
    return hashlib.new(name, certificate_der).digest()
