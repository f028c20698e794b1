"""A real IMAP server for the tests: Debian's Dovecot, started as an ordinary process.

Mail reaches it the two ways a County's does: IMAP APPEND (`append`, what an administrator's
mail program does) and Dovecot's LDA (`deliver`, what the relay's last hop runs, Postfix's
`mailbox_command`: `bounces+TOKEN@...` is delivered to the `bounces` mailbox).

Its configuration is thrown away with the test run: a base directory, a passwd-file with one user,
and Maildirs in a temporary folder, listening on free loopback ports (plain IMAP with STARTTLS, and
IMAPS) with a certificate from a throw-away CA (trustme). As root (CI), Dovecot runs its mail
processes as the `dovecot` user, which owns the Maildirs; as anyone else, as that user.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"  # Debian's dovecot-core, as Dovecot itself
USER = "bounces"
PASSWORD = "imap-test-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """`Dovecot(tmp).start()`; `.port` (IMAP, STARTTLS offered), `.tls_port` (IMAPS), `.stop()`."""

    def __init__(self, root: Path) -> None:
        import trustme

        self.root = root
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port()
        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
        cert.private_key_pem.write_to_path(str(root / "key.pem"))
        self.process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            account = pwd.getpwnam("dovecot")
            internal, login = "dovecot", "dovenull"
        else:
            account = pwd.getpwuid(os.getuid())
            internal = login = account.pw_name
        self.uid, self.gid = account.pw_uid, account.pw_gid
        self.mail = root / "mail"
        self.mail.mkdir()
        (root / "base").mkdir()
        os.chown(self.mail, self.uid, self.gid)
        entry = f"{USER}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{self.mail}/{USER}\n"
        (root / "passwd").write_text(entry)
        chroot = "" if os.geteuid() == 0 else "  chroot =\n"
        (root / "dovecot.conf").write_text(
            f"""\
instance_name = madeinla-test-{self.port}
base_dir = {root}/base
protocols = imap
listen = 127.0.0.1
recipient_delimiter = +
postmaster_address = postmaster@example.gov
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
mail_location = maildir:{self.mail}/%u
default_internal_user = {internal}
default_internal_group = {pwd.getpwnam(internal).pw_name if os.geteuid() == 0 else internal}
default_login_user = {login}
first_valid_uid = {min(self.uid, 100) if self.uid else 1}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {root}/passwd
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
service anvil {{
{chroot}}}
service imap {{
  process_limit = 20
}}
"""
        )

    def start(self) -> Dovecot:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot did not start: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dovecot did not answer within 15 seconds")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this server's throw-away CA."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    # Test helpers, with the standard library's blocking client --------------------------------

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port)
        client.login(USER, PASSWORD)
        return client

    def reset(self) -> None:
        """Empty the user's mailbox: every folder deleted, INBOX emptied."""
        client = self.connect()
        try:
            _, folders = client.list()
            for line in folders or []:
                found = (
                    re.search(r'\) (?:"[^"]*"|NIL) "?(.*?)"?$', line.decode())
                    if isinstance(line, bytes)
                    else None
                )
                if found and found.group(1) != "INBOX":
                    client.delete(f'"{found.group(1)}"')
            _, data = client.select("INBOX")
            if int(data[0] or 0):
                client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()
        finally:
            client.logout()

    def append(self, messages: list[bytes], folder: str = "INBOX") -> None:
        client = self.connect()
        try:
            for raw in messages:
                status, _ = client.append(folder, None, None, raw)
                assert status == "OK", status
        finally:
            client.logout()

    def deliver(self, messages: list[bytes], *, to: str, sender: str = "MAILER-DAEMON") -> None:
        """Deliver each message to `to` (`bounces` or `bounces+anything`, any domain) as a relay's
        last hop does: Postfix's local delivery adds Delivered-To and runs dovecot-lda with the
        recipient and envelope sender (a bounce's is empty: MAILER-DAEMON), which files it in INBOX."""
        for raw in messages:
            subprocess.run(
                [LDA, "-c", str(self.root / "dovecot.conf"), "-d", USER, "-a", to, "-f", sender],
                input=f"Delivered-To: {to}\r\n".encode() + raw,
                check=True,
                capture_output=True,
                timeout=30,
            )

    def count(self, folder: str) -> int:
        client = self.connect()
        try:
            status, data = client.select(folder, readonly=True)
            return int(data[0] or 0) if status == "OK" else 0
        finally:
            client.logout()

    def messages(self, folder: str) -> list[bytes]:
        client = self.connect()
        try:
            status, _ = client.select(folder, readonly=True)
            if status != "OK":
                return []
            _, data = client.uid("SEARCH", "ALL")
            out = []
            for uid in (data[0] or b"").split():
                _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
                out.append(bytes(fetched[0][1]))  # type: ignore[index]
            return out
        finally:
            client.logout()
