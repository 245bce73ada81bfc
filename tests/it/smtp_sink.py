#!/usr/bin/python3
"""A real SMTP server for the tests, on Debian's python3-aiosmtpd: every message
it accepts is written to FOLDER as one JSON file (envelope, headers, both parts,
decoded). Recipients whose address holds "bounce" are refused for good (550).

usage: smtp_sink.py HOST PORT FOLDER
"""
import email
import json
import os
import signal
import sys
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "bounce" in address:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        self.count += 1
        doc = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "message_id": str(message["message-id"]),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }
        name = os.path.join(self.folder, f"{os.getpid()}-{self.count:05}.json")
        with open(name + ".tmp", "w") as f:
            json.dump(doc, f)
        os.rename(name + ".tmp", name)
        return "250 OK"


def main():
    host, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    controller = Controller(Sink(folder), hostname=host, port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
