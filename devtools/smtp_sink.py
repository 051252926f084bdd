"""A local SMTP server that keeps what it receives: the far end of the e-mail in tests and in
`make faults` (development only; aiosmtpd is in the dev extra).

In a test: ``with SmtpSink() as sink: ...`` listens on a free loopback port and collects
`sink.mails`. As a program (``python -m devtools.smtp_sink --port P --out mails.jsonl``) it
appends one JSON line per received e-mail (Message-ID, recipients, subject) to the file, so a
fault run counts what really arrived, also across a SIGSTOP (a hung server) or a restart.
"""

import argparse
import email
import email.policy
import json
import signal
import socket
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMail:
    message_id: str
    to: list[str]
    subject: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Recorder:
    """aiosmtpd handler: parse each message, keep it, and append it to `out` if given."""

    def __init__(self, out: Path | None = None):
        self.mails: list[ReceivedMail] = []
        self.out = out
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        mail = ReceivedMail(
            message_id=str(message.get("Message-ID", "")),
            to=list(envelope.rcpt_tos),
            subject=str(message.get("Subject", "")),
        )
        with self._lock:
            self.mails.append(mail)
            if self.out is not None:
                with self.out.open("a") as out:
                    out.write(json.dumps(asdict(mail)) + "\n")
                    out.flush()
        return "250 OK"


class SmtpSink:
    """An SMTP server on 127.0.0.1:`port` (a free one by default), in a background thread."""

    def __init__(self, port: int | None = None, out: Path | None = None):
        self.port = port or free_port()
        self._recorder = _Recorder(out)
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=self.port)

    @property
    def mails(self) -> list[ReceivedMail]:
        return list(self._recorder.mails)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sink = SmtpSink(port=args.port, out=args.out).start()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"smtp_sink listening on 127.0.0.1:{sink.port}", flush=True)
    stopping.wait()
    sink.stop()


if __name__ == "__main__":
    main()
