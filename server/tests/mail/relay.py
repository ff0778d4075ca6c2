"""A real SMTP relay for the mail tests: aiosmtpd on loopback, STARTTLS required.

Each message it accepts is written to OUT/<n>.json with its envelope, whether the session
was encrypted, its headers and text as a mail reader decodes them, and its raw bytes. With --fail-first N it answers the first N
messages with a 451 (try again later), as a busy relay does. It prints the port it listens
on, then serves until it is killed. Run by server/tests/mail.rs with Debian's python3.
"""

import argparse
import asyncio
import base64
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, out, fail_first):
        self.out = out
        self.fail_left = fail_first
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 Busy: try again later"
        self.count += 1
        message = email.message_from_bytes(
            envelope.original_content, policy=email.policy.default
        )
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "body": message.get_content(),
            "raw": base64.b64encode(envelope.original_content).decode(),
        }
        path = os.path.join(self.out, f"{self.count:04}.json")
        with open(path + ".part", "w") as f:
            json.dump(record, f)
        os.rename(path + ".part", path)
        return "250 2.0.0 Accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    controller = Controller(
        Recorder(args.out, args.fail_first),
        hostname="127.0.0.1",
        port=args.port,
        tls_context=context,
        require_starttls=True,
        server_hostname="localhost",
    )
    controller.start()
    print(f"listening {args.port}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
