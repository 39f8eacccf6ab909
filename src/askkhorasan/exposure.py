"""Who may change the corpus through the app, and what the app may say about the server.

On loopback only this computer can reach the app. Bound to anything else, anyone who reaches the
port could copy files into corpus/ and start builds, so uploads then need a token, or an explicit
flag to run without one; error messages shown in the page never carry the server's absolute paths.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import AskKhorasanError

TOKEN_ENV = "ASKKHORASAN_TOKEN"
TOKEN_FILE_ENV = "ASKKHORASAN_TOKEN_FILE"


class UploadRefusedError(AskKhorasanError):
    """Uploads are off, or the token given is wrong."""


def is_loopback(host: str) -> bool:
    if host.strip().lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(token_file: str | Path | None = None) -> str | None:
    """The upload token: from `token_file`, else $ASKKHORASAN_TOKEN_FILE, else $ASKKHORASAN_TOKEN."""
    path = token_file or os.environ.get(TOKEN_FILE_ENV)
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AskKhorasanError(f"cannot read the token file {path} ({exc}) — check the path given to --token-file") from None
        if not token:
            raise AskKhorasanError(f"the token file {path} is empty — put the token on its first line")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None


@dataclass(frozen=True)
class UploadPolicy:
    enabled: bool
    token: str | None = None
    why_off: str = ""

    def check(self, given: str | None) -> None:
        """Raises UploadRefusedError unless an upload may go ahead with this token."""
        if not self.enabled:
            raise UploadRefusedError(self.why_off)
        if self.token is not None and not hmac.compare_digest((given or "").strip().encode(), self.token.encode()):
            raise UploadRefusedError("wrong or missing upload token — enter the token the server was started with")


def upload_policy(host: str, token: str | None = None, allow_without_token: bool = False) -> UploadPolicy:
    if token:
        return UploadPolicy(True, token)
    if is_loopback(host) or allow_without_token:
        return UploadPolicy(True)
    return UploadPolicy(False, why_off=(
        f"uploads are off: the app listens on {host} without an upload token — start it with "
        f"{TOKEN_ENV} set (or --token-file FILE) to allow uploads with that token"
    ))


def exposure_warning(host: str, port: int, policy: UploadPolicy) -> str | None:
    """What to print when the app is reachable from other computers; None on loopback."""
    if is_loopback(host):
        return None
    uploads = (
        "uploads need the token" if policy.enabled and policy.token
        else "uploads are OPEN to anyone (--allow-uploads-without-token)" if policy.enabled
        else f"uploads are off (set {TOKEN_ENV} or pass --token-file to allow them with a token)"
    )
    return (
        f"askkhorasan: WARNING: listening on {host}:{port}, reachable from other computers, with no login: "
        f"anyone who reaches this port can ask questions and read the sources' passages; {uploads}."
    )


_ABSOLUTE = re.compile(r"(?<![\w.:/~-])(?:/[^\s/'\"`()<>]+)+/?")


def hide_paths(message: str, *folders: str | Path) -> str:
    """`message` with the server's absolute paths cut to their last part (`index`, `notes.md`)."""
    for folder in folders:
        for form in {str(Path(folder)), str(Path(folder).resolve()), str(Path(folder).absolute())}:
            if os.path.isabs(form):
                message = message.replace(form, Path(form).name)
    return _ABSOLUTE.sub(lambda m: m.group().rstrip("/").rsplit("/", 1)[-1], message)
