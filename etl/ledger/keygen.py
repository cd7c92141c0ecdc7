"""`python -m etl keygen`: a minisign key pair for signing snapshot manifests.

The key is made by the minisign program itself (Debian's package, as `make system-deps`
installs it), so the files are exactly what `minisign -V` and every other minisign tool read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from etl.errors import EtlError
from etl.ledger.manifests import public_key_path

SECRET = "minisign.key"


def generate(out_dir: Path, password_env: str = "") -> tuple[Path, Path]:
    """Write out_dir/minisign.key and minisign.pub; never overwrites an existing key.

    Without `password_env` the secret key is stored unencrypted (a publishing machine signs
    unattended); with it, the key is encrypted with that variable's value, which publish then
    reads from the same variable (signing.password_env).
    """
    binary = shutil.which("minisign")
    if binary is None:
        raise EtlError("the minisign program is not installed",
                       hint="run `make system-deps` (or apt-get install minisign)")
    out_dir = Path(out_dir)
    secret = out_dir / SECRET
    public = public_key_path(secret)
    existing = [str(path) for path in (secret, public) if path.exists()]
    if existing:
        raise EtlError(f"{', '.join(existing)} already exist(s); keygen never replaces a key",
                       hint="choose another --out folder, or keep using the existing key: "
                            "a new key breaks the link to everything signed before")
    password = ""
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            raise EtlError(f"environment variable {password_env} is empty",
                           hint="export the password in it, or leave out --password-env")
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [binary, "-G", "-p", str(public), "-s", str(secret)]
    if not password:
        command.append("-W")
    result = subprocess.run(command, input=f"{password}\n{password}\n".encode() if password
                            else b"", capture_output=True, timeout=120)
    if result.returncode != 0 or not secret.is_file() or not public.is_file():
        raise EtlError(f"minisign could not make a key pair in {out_dir}: "
                       f"{result.stderr.decode('utf-8', 'replace').strip()}",
                       hint="check that the folder is writable")
    secret.chmod(0o600)
    return secret, public


def instructions(secret: Path, public: Path, password_env: str = "") -> str:
    """What to put in the config, and how to publish the public key outside the site."""
    key_line = next((line.strip() for line in public.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("untrusted comment:")), "")
    password = f"\n  password_env: {password_env}" if password_env else ""
    return (f"wrote {secret} (secret: keep it on the publishing machine only, and back it up)\n"
            f"wrote {public} (public)\n\n"
            "Add to the config (the path may be relative to the config's folder):\n\n"
            f"signing:\n  minisign_key: {secret}{password}\n\n"
            "Publish the public key outside the site, where whoever could rewrite the site\n"
            "cannot change it: print this line in the official document (公文) that announces\n"
            "the publication, and on the government portal:\n\n"
            f"  {key_line}\n\n"
            "Auditors then check with the key from there, not the site's own copy:\n\n"
            "  python -m etl verify SITE --public-key minisign.pub\n")
