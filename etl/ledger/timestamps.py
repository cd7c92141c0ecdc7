"""RFC 3161 timestamps: a token from an outside authority over each manifest's SHA-256.

A token proves the manifest existed by the authority's time: a chain rewritten later carries
tokens dated later, or none. The token sits beside the manifest (manifest.json.tsr, the
authority's whole TimeStampResp, as `openssl ts -reply` writes it), outside the id's hash, so
the snapshot id does not depend on when or whether the authority answered.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from etl.errors import SnapshotError
from etl.ledger.manifests import MANIFEST

TIMESTAMP = "manifest.json.tsr"
# The authority's CA certificate as the site carries it, beside minisign.pub.
SITE_CERTIFICATE = "timestamp-ca.pem"
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


def _load_certificates(path: Path) -> list:
    """Every certificate in a PEM (or DER) file; ValueError if it holds none."""
    from cryptography import x509

    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def _verifier(certificates: list, nonce: int | None = None):
    from rfc3161_client import VerifierBuilder

    builder = VerifierBuilder(nonce=nonce) if nonce is not None else VerifierBuilder()
    for certificate in certificates:
        builder = builder.add_root_certificate(certificate)
    return builder.build()


def stamp(manifest_path: Path, config) -> Path:
    """Ask config.timestamp.url for a token over manifest.json; check it; write it beside it.

    The token must answer this very request (its nonce), name the manifest's SHA-256 and chain
    to timestamp.ca_file, so a publish never keeps a token that `verify` would reject.
    """
    import requests
    from rfc3161_client import (HashAlgorithm, TimestampRequestBuilder, VerificationError,
                                decode_timestamp_response)

    settings = config.timestamp
    manifest_path = Path(manifest_path)
    hint = ("check timestamp.url and that the authority is reachable, or remove timestamp.url "
            "to publish without timestamps")
    request = (TimestampRequestBuilder().data(manifest_path.read_bytes())
               .hash_algorithm(HashAlgorithm.SHA256).build())
    try:
        answer = requests.post(settings.url, data=request.as_bytes(),
                               headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE},
                               timeout=settings.timeout_seconds)
        answer.raise_for_status()
    except requests.RequestException as error:
        raise SnapshotError(f"the timestamp authority {settings.url} did not answer for "
                            f"{manifest_path}: {error}", hint=hint)
    try:
        response = decode_timestamp_response(answer.content)
        _verifier(_load_certificates(settings.ca_file), request.nonce).verify_message(
            response, manifest_path.read_bytes())
    except (ValueError, VerificationError) as error:
        raise SnapshotError(f"the token from {settings.url} for {manifest_path} does not check "
                            f"out against {settings.ca_file}: {error}",
                            hint="timestamp.ca_file must be the CA certificate of the authority "
                                 "at timestamp.url; " + hint)
    token = manifest_path.with_name(TIMESTAMP)
    token.write_bytes(answer.content)
    return token


def site_certificate(config) -> Path | None:
    """The configured authority certificate the render stage copies into data/, if any."""
    ca_file = getattr(getattr(config, "timestamp", None), "ca_file", None)
    return Path(ca_file) if ca_file and Path(ca_file).is_file() else None


def check_tokens(data_dir: Path, ordered: list[Path], problems: list[str],
                 certificate: Path | None = None) -> None:
    """Every token must name its manifest's SHA-256 and chain to the authority's certificate.

    `certificate` (obtained out of band) is used if given, and the site's own copy must equal
    it; else the site's data/timestamp-ca.pem. Tokens with no certificate to check them are a
    problem; with a certificate, the newest snapshot must carry a token; along the chain the
    authority's times must not go backwards.
    """
    from rfc3161_client import VerificationError, decode_timestamp_response

    site_copy = Path(data_dir) / SITE_CERTIFICATE
    chosen = None
    if certificate is not None:
        chosen = Path(certificate)
        if not chosen.is_file():
            problems.append(f"{chosen}: the authority certificate given with --tsa-cert does "
                            "not exist")
            return
        if site_copy.is_file() and site_copy.read_bytes().strip() != chosen.read_bytes().strip():
            problems.append(f"{site_copy}: differs from the authority certificate given with "
                            f"--tsa-cert ({chosen}); the site names another authority")
    elif site_copy.is_file():
        chosen = site_copy
    stamped = [folder for folder in ordered if (folder / TIMESTAMP).is_file()]
    if chosen is None:
        if stamped:
            problems.append(f"{stamped[0] / TIMESTAMP}: timestamped snapshots but no authority "
                            f"certificate to check them ({site_copy} is missing); pass it with "
                            "--tsa-cert")
        return
    if ordered and ordered[-1] not in stamped:
        problems.append(f"{ordered[-1] / TIMESTAMP}: missing, but the site names a timestamp "
                        f"authority ({chosen}); the newest snapshot must be timestamped")
    try:
        verifier = _verifier(_load_certificates(chosen))
    except ValueError as error:
        problems.append(f"{chosen}: not a PEM or DER certificate ({error})")
        return
    previous_time = None
    for folder in stamped:
        token = folder / TIMESTAMP
        manifest = (folder / MANIFEST).read_bytes() if (folder / MANIFEST).is_file() else b""
        digest = hashlib.sha256(manifest).digest()
        try:
            response = decode_timestamp_response(token.read_bytes())
            if response.tst_info.message_imprint.message != digest:
                problems.append(f"{token}: its message imprint is not the SHA-256 of "
                                f"{folder.name}/{MANIFEST} (the manifest or the token was "
                                "edited, or the token is another snapshot's)")
                continue
            verifier.verify(response, digest)
        except (ValueError, VerificationError) as error:
            problems.append(f"{token}: the timestamp token does not check out for "
                            f"{folder.name}/{MANIFEST} against {chosen}: {error}")
            continue
        when = response.tst_info.gen_time
        if previous_time is not None and when < previous_time:
            problems.append(f"{token}: timestamped {when.isoformat()}, before the snapshot "
                            f"before it ({previous_time.isoformat()}): the chain was reordered")
        previous_time = when


def copy_certificate(config, data_dir: Path) -> Path | None:
    """Put the authority certificate on the site, so `verify` checks the tokens it carries."""
    source = site_certificate(config)
    if source is None:
        return None
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, Path(data_dir) / SITE_CERTIFICATE))
