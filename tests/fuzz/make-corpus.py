#!/usr/bin/python3
"""make-corpus.py OUTDIR [FIXTURE_DIR [STAMP]]: the seed corpora of the fuzz harnesses.

Made at test time, never committed: OUTDIR/<harness>/ holds the seeds of
each harness of tests/fuzz (one file per seed), and OUTDIR/trust.pem the CA
that the CMS seeds chain to (fuzz-cms-verify reads it from IMZALA_FUZZ_TRUST).
Certificates come from the test fixture (FIXTURE_DIR/certs/*.der: the
NES-like profile with QCStatements) when it is given, and from a small PKI
made here with openssl, which also signs the CAdES-BES seeds: RSA and EC
P-256, attached and detached. The portal's answers and request bodies are
the shapes of docs/protocol.md, valid first, then a few near misses.
"""
import base64
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HOST = "portal.example.org"
CODE = "ABCDEFGHJKMN"
DISPLAY_CODE = "ABCD-EFGH-JKMN"
CREATED = "2026-11-26T10:00:00Z"
EXPIRES = "2026-11-26T10:05:00Z"
SERVER_TIME = "2026-11-26T10:01:00Z"
REFERENCE = f"\n\nİşlem: {HOST} / {DISPLAY_CODE} / {CREATED}"
# The content fuzz-cms-verify checks a detached signature against.
DETACHED_CONTENT = "İmzalanacak metin\n\nİşlem: portal.example.org / ABCD-EFGH-JKMN"


def write(directory, name, data):
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    (directory / name).write_bytes(data)


def b64(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(work):
    """A root CA, an RSA and an EC signer, with CAdES-BES signatures."""
    ext = work / "ext.cnf"
    ext.write_text(
        "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\n"
        "[signer]\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,nonRepudiation\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        "qcStatements=DER:30:0a:30:08:06:06:04:00:8e:46:01:01\n"
        "certificatePolicies=2.16.792.1.2.1.1.5.7.1.1\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
            "-subj", "/C=TR/O=İmzala Fuzz/CN=İmzala Fuzz Kök SM", "-utf8",
            "-set_serial", "1", "-extensions", "ca", "-config", "ext.cnf",
            "-addext", "basicConstraints=critical,CA:TRUE", cwd=work)
    signers = []
    for name, keyopts in (("rsa", ["-newkey", "rsa:2048"]),
                          ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])):
        openssl("req", *keyopts, "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/C=TR/serialNumber=TCKN12345678950/CN=AYŞE YILMAZ {name.upper()}",
                "-utf8", "-config", "ext.cnf", cwd=work)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", str(100 + len(signers)), "-days", "3650",
                "-extfile", "ext.cnf", "-extensions", "signer", "-out", f"{name}.pem", cwd=work)
        openssl("x509", "-in", f"{name}.pem", "-outform", "DER", "-out", f"{name}.der", cwd=work)
        signers.append(name)
    (work / "content.txt").write_bytes(DETACHED_CONTENT.encode("utf-8"))
    cms = {}
    for name in signers:
        for detached in (False, True):
            out = f"{name}-{'detached' if detached else 'attached'}.der"
            openssl("cms", "-sign", "-cades", "-binary", "-md", "sha256",
                    "-in", "content.txt", "-signer", f"{name}.pem", "-inkey", f"{name}.key",
                    "-certfile", "ca.pem", "-outform", "DER", "-out", out,
                    *([] if detached else ["-nodetach"]), cwd=work)
            cms[out] = (work / out).read_bytes()
        # Plain CMS, without the ESS signing-certificate-v2 attribute.
        out = f"{name}-plain.der"
        openssl("cms", "-sign", "-binary", "-md", "sha256", "-in", "content.txt",
                "-signer", f"{name}.pem", "-inkey", f"{name}.key", "-outform", "DER",
                "-out", out, cwd=work)
        cms[out] = (work / out).read_bytes()
    certs = {f"{name}.der": (work / f"{name}.der").read_bytes() for name in signers}
    subprocess.run(["openssl", "x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
                   cwd=work, check=True)
    certs["ca.der"] = (work / "ca.der").read_bytes()
    return certs, cms, (work / "ca.pem").read_text()


def text(title, body, media_type=None):
    item = {"title": title, "content": b64(body + REFERENCE)}
    if media_type:
        item["media_type"] = media_type
    return item


def request_answer(**changes):
    answer = {
        "version": 1, "code": CODE, "purpose": "consent", "portal": HOST,
        "title": "E-Onay", "created_at": CREATED, "expires_at": EXPIRES,
        "server_time": SERVER_TIME, "nonce": b64(bytes(range(1, 33))),
        "texts": [text("Metin 1", "Ad\tAYŞE YILMAZ\nTutar\t10 TL", "text/plain; charset=utf-8"),
                  text("Metin 2", "Taahhütname")],
        "requester": {"name": "AYŞE YILMAZ", "tckn_hint": "123******50"},
    }
    answer.update(changes)
    return json.dumps(answer, ensure_ascii=False)


def portal_answers(out):
    d = out / "fuzz-portal-answer"
    write(d, "request", request_answer())
    write(d, "request-login", request_answer(purpose="login", title="Giriş",
                                             texts=[text("Giriş", "Giriş isteği")]))
    write(d, "request-unblock", request_answer(purpose="unblock", texts=[]))
    write(d, "request-no-server-time", request_answer(server_time=None))
    write(d, "status", '{"version": 1, "status": "accepted", "message": "Giriş başarılı."}')
    write(d, "status-recorded", '{"version": 1, "status": "recorded"}')
    write(d, "puk", '{"version": 1, "puk": "87654321"}')
    write(d, "error", '{"error": {"code": "code-unknown", "message": "Kod bulunamadı."}}')
    write(d, "error-retry", '{"error": {"code": "rate-limited", "retry_after": 30}}')
    write(d, "error-fields", '{"error": {"code": "malformed", "fields": {"email": "Geçersiz"}}}')
    write(d, "nested", "[" * 40 + "]" * 40)


def json_documents(out):
    d = out / "fuzz-json"
    write(d, "request", request_answer())
    write(d, "puk", '{"version": 1, "puk": "87654321", "message": "PUK"}')
    write(d, "puk-twice", '{"puk": "1", "puk": "2"}')
    write(d, "puk-escaped", '{"puk": "12\\u0033"}')
    write(d, "strings", '["[[[[", "\\"", {"a": "]]]"}]')
    write(d, "nested-64", "[" * 64 + "]" * 64)
    write(d, "nested-65", "[" * 65 + "]" * 65)
    write(d, "empty", "")


def portal_codes(out):
    d = out / "fuzz-portal-code"
    for i, value in enumerate([CODE, DISPLAY_CODE, f"Doğrulama Kodu: {DISPLAY_CODE}",
                               " abcd efgh jkmn ", "oIl0-1234-5678", "QUJD", "QQ==",
                               b64(bytes(range(64))), "", "=" * 4]):
        write(d, f"seed-{i}", value)


def portal_bodies(out, cms):
    """fuzz-portal-body: the first byte chooses the route (see the harness)."""
    d = out / "fuzz-portal-body"
    signature = b64(next(iter(cms.values()))) if cms else "AA=="
    nonce = b64(bytes(range(1, 33)))
    bodies = {
        "signatures": (0, {"version": 1, "nonce": nonce, "signatures": [signature, signature]}),
        "unblock": (1, {"version": 1, "nonce": nonce, "card_serial": "0123456789ABCDEF",
                        "security_word": "kelime"}),
        "unblock-result": (2, {"version": 1, "nonce": nonce, "result": "unblocked"}),
        "login": (3, {"tckn": "12345678950"}),
        "consent": (4, {"tckn": "12345678950", "choice": "accept"}),
        "browser-unblock": (5, {"tckn": "12345678950", "security_word": "kelime"}),
        "application-login": (6, {"tckn": "12345678950", "sicil_no": "12345"}),
        "application": (7, {"tckn": "12345678950", "name": "AYŞE YILMAZ",
                            "email": "ayse@example.org", "phone": "+905551112233",
                            "institution": "Kurum", "security_word": "kelime"}),
    }
    for name, (route, body) in bodies.items():
        write(d, name, bytes([route]) + json.dumps(body, ensure_ascii=False).encode("utf-8"))
    for route in range(8):
        write(d, f"empty-{route}", bytes([route]))
    write(d, "nested", b"\x03" + b"[" * 40 + b"]" * 40)


def main():
    out = pathlib.Path(sys.argv[1])
    fixture = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="imzala-fuzz-pki-") as work:
        certs, cms, trust = make_pki(pathlib.Path(work))
    (out / "trust.pem").write_text(trust)

    d = out / "fuzz-certificate"
    for name, der in certs.items():
        write(d, name, der)
    if fixture is not None and (fixture / "certs").is_dir():
        for path in sorted((fixture / "certs").glob("*.der")):
            write(d, "fixture-" + path.name, path.read_bytes())
        for path in sorted((fixture / "ca").glob("*.der")):
            write(d, "fixture-" + path.name, path.read_bytes())

    d = out / "fuzz-cms-verify"
    for name, der in cms.items():
        write(d, name, der)
    # Regression (a leak in OpenSSL's CMS_verify() with a detached content
    # in a memory BIO, see check_with_openssl() in imzala-cms-verify.c): the
    # digestAlgorithms SET names an unknown OID (2.16.776 for 2.16.840), so
    # CMS_dataInit() fails after every check of İmzala's own passed. Made
    # from a fresh seed, as it carries a certificate.
    sha256 = bytes.fromhex("0609608648016503040201")
    unknown = bytes.fromhex("0609608608016503040201")
    for name in ("ec-detached.der", "rsa-detached.der"):
        der = cms[name]
        assert sha256 in der
        write(d, "regression-unknown-digest-algorithm-" + name, der.replace(sha256, unknown, 1))

    # fuzz-verifier: the same signatures through the validating verifier
    # (the portal's acceptance check).
    d = out / "fuzz-verifier"
    for name, der in cms.items():
        write(d, name, der)

    portal_answers(out)
    json_documents(out)
    portal_codes(out)
    portal_bodies(out, cms)

    # fuzz-pkcs11-attributes reads its input as a script of answers (see
    # the harness): a few certificate values and labels to start from.
    d = out / "fuzz-pkcs11-attributes"
    for i, der in enumerate(certs.values()):
        length = len(der).to_bytes(2, "big")
        # CKA_VALUE, CKA_ID, CKA_LABEL: the size query, then the values.
        sizes = b"\x00" + b"\x01" + length + b"\x01\x00\x01" + b"\x01\x00\x05"
        values = b"\x00" + b"\x01" + length + der + b"\x01\x00\x01\xa1" + b"\x01\x00\x05LABEL"
        write(d, f"cert-{i}", sizes + values)
    write(d, "lies", bytes([0, 2, 6, 3, 7, 0, 1, 0, 4, 5]) * 8)

    if len(sys.argv) > 3:
        pathlib.Path(sys.argv[3]).touch()


if __name__ == "__main__":
    main()
