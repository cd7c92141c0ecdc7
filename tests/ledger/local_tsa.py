"""A throwaway RFC 3161 timestamp authority on 127.0.0.1 for the tests: its own CA, made here,
and `openssl ts -reply` answering each query, as a real authority's server would."""

from __future__ import annotations

import datetime as dt
import http.server
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TS_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {serial}
crypto_device = builtin
default_policy = 1.3.6.1.4.1.55555.1
other_policies = 1.3.6.1.4.1.55555.2
digests = sha256, sha384, sha512
signer_digest = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(folder: Path, name: str = "Gongshi Test TSA CA"):
    """A self-signed CA key and certificate; writes folder/ca.pem."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + dt.timedelta(days=36500))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key, certificate


class LocalAuthority:
    """The authority: CA, a timestamping certificate it issued, and an HTTP server."""

    def __init__(self, folder: Path):
        if shutil.which("openssl") is None:
            pytest.skip("openssl is not installed (make system-deps)")
        self.folder = folder
        ca_key, ca = make_ca(folder)
        self.ca_file = folder / "ca.pem"
        start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        signer = (x509.CertificateBuilder().subject_name(_name("Gongshi Test TSA"))
                  .issuer_name(ca.subject).public_key(key.public_key())
                  .serial_number(x509.random_serial_number())
                  .not_valid_before(start).not_valid_after(start + dt.timedelta(days=36500))
                  .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                  .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                                 critical=True)
                  .sign(ca_key, hashes.SHA256()))
        (folder / "tsa.pem").write_bytes(signer.public_bytes(serialization.Encoding.PEM))
        (folder / "tsa.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        (folder / "serial").write_text("01\n")
        (folder / "ts.cnf").write_text(TS_CONFIG.format(serial=folder / "serial"))
        self.queries = 0
        self.fail = False
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsr"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reply(self, query: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as work:
            query_file, reply_file = Path(work) / "q.tsq", Path(work) / "r.tsr"
            query_file.write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config", str(self.folder / "ts.cnf"),
                            "-queryfile", str(query_file), "-inkey", str(self.folder / "tsa.key"),
                            "-signer", str(self.folder / "tsa.pem"), "-out", str(reply_file)],
                           check=True, capture_output=True, timeout=30)
            return reply_file.read_bytes()

    def _handler(self):
        authority = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                authority.queries += 1
                if authority.fail or self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_response(503)
                    self.end_headers()
                    return
                body = authority.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
