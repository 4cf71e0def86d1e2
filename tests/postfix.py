"""A real Postfix (Debian's package) for the delivery tests: a private instance per test, its
own configuration, queue and Maildir under the test's directory, listening on 127.0.0.1 only,
and every transport local: any recipient of the test domains lands in one Maildir, anything else
is refused (nothing ever leaves loopback). Needs root, as Postfix does."""

import email
import email.policy
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.services import require
from tests.smtp import free_port

DOMAINS = "example.test, example.com"
MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.paperboy.test
mydomain = paperboy.test
myorigin = $mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = {domains}
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = static:Maildir/
virtual_minimum_uid = 1
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
default_transport = error:5.7.1 this Postfix delivers nothing beyond loopback
relay_transport = $default_transport
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
smtpd_discard_ehlo_keywords = {discard}
biff = no
"""
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def available() -> bool:
    return shutil.which("postfix") is not None and os.geteuid() == 0


class Postfix:
    def __init__(self, root: Path, discard: str = "") -> None:
        self.root, self.port = root, free_port()
        owner = pwd.getpwnam("postfix")
        for name, uid, gid in (
            ("queue", 0, 0),
            ("data", owner.pw_uid, owner.pw_gid),
            ("mail", owner.pw_uid, owner.pw_gid),
        ):
            (root / name).mkdir(parents=True)
            os.chown(root / name, uid, gid)
        (root / "main.cf").write_text(
            MAIN_CF.format(root=root, domains=DOMAINS, uid=owner.pw_uid, gid=owner.pw_gid, discard=discard)
        )
        (root / "master.cf").write_text(MASTER_CF.format(port=self.port))

    def command(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["postfix", "-c", str(self.root), *args], capture_output=True, text=True)

    def start(self) -> None:
        # A restart right after stop() can still fail (1 run in 40 of `make reliability`, on a
        # loaded machine, after `status` had said the old master was gone): try again for a
        # while, then fail with Postfix's own words.
        deadline = time.monotonic() + 20
        while (started := self.command("start")).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"postfix start failed: {started.stderr}{self.log()}")
            time.sleep(0.2)
        while not self.listening():
            if time.monotonic() > deadline:
                raise RuntimeError(f"Postfix did not listen on {self.port}: {self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop, and wait until the master process is gone: `postfix stop` only signals it, and
        a `start` while it still exits fails with "already running"."""
        self.command("stop")
        deadline = time.monotonic() + 20
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.1)

    def running(self) -> bool:
        return self.command("status").returncode == 0

    def listening(self) -> bool:
        import socket

        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text() if path.exists() else ""

    def delivered(self) -> list[EmailMessage]:
        folder = self.root / "mail" / "Maildir" / "new"
        files = sorted(folder.iterdir()) if folder.exists() else []
        return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]

    def queued(self) -> int:
        """Messages Postfix holds and has not delivered yet (including one being received)."""
        folders = ("maildrop", "incoming", "active", "deferred", "hold")
        files = [path for name in folders for path in (self.root / "queue" / name).rglob("*")]
        return sum(1 for path in files if path.is_file())

    def drained(self, timeout: float = 60) -> list[EmailMessage]:
        """The delivered messages once the queue is empty (every message it took delivered)."""
        deadline = time.monotonic() + timeout
        while self.queued():
            if time.monotonic() > deadline:
                held = [str(p) for p in (self.root / "queue").rglob("*") if p.is_file()]
                raise AssertionError(f"Postfix still holds {self.queued()} messages: {held}\n{self.log()}")
            time.sleep(0.1)
        return self.delivered()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root.parent, ignore_errors=True)

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """The delivered messages once `count` arrived (and a moment more, so a duplicate shows)."""
        deadline = time.monotonic() + timeout
        while len(self.delivered()) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        return self.delivered()


def require_postfix() -> None:
    require(available(), "needs Debian's postfix and root (apt-get install postfix)")


def private_postfix(discard: str = "") -> Postfix:
    """A configured, not yet started Postfix in a directory of its own (`remove()` it after)."""
    # Not under pytest's tmp_path: Postfix's own user must reach it, and that is root's only.
    root = Path(tempfile.mkdtemp(prefix="paperboy-postfix-"))
    root.chmod(0o755)
    return Postfix(root / "postfix", discard)


@pytest.fixture
def postfix(settings) -> Iterator:
    """A factory: `postfix()` or `postfix(discard="8bitmime, pipelining")` starts one, with
    Django's mail (the backend smtp:// selects) pointed at it."""
    require_postfix()
    started: list[Postfix] = []

    def start(discard: str = "") -> Postfix:
        server = private_postfix(discard)
        server.start()
        started.append(server)
        settings.EMAIL_BACKEND = "newsletter.sending.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 10
        return server

    yield start
    for server in started:
        server.remove()
