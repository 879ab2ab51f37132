"""A real SMTP server for tests: accepts every message and writes it, raw, to
DIR/<n>.eml (atomically: written as .tmp then renamed). Usage: smtp_sink.py HOST PORT DIR"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        name = f"{os.getpid()}-{next(self.counter):08d}"
        tmp = os.path.join(self.directory, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, name + ".eml"))
        return "250 OK"


def main():
    host, port, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    controller = Controller(Sink(directory), hostname=host, port=port)
    controller.start()
    print(f"smtp sink on {host}:{port} writing to {directory}", flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
