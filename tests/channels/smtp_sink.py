"""A loopback SMTP server for the channels tests and benchmark, on aiosmtpd.

Run with Debian's interpreter: /usr/bin/python3 smtp_sink.py --port-file F [--dir D]

Listens on 127.0.0.1 on a free port and writes that port to --port-file once it accepts
connections. Each accepted message is saved as D/NNNN.eml (the bytes received, after SMTP
dot-unstuffing) with D/NNNN.json (envelope sender, recipients, client port); without --dir
messages are only counted. Recipients decide the reply, so tests can script failures:
  reject-*@...  -> 550 5.1.1 (permanent)
  later-*@...   -> 451 4.3.2 (transient)
Stops on SIGTERM/SIGINT, or by itself after --max-seconds.
"""

import argparse
import asyncio
import json
import os
import signal

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject-"):
            return "550 5.1.1 <%s>: recipient rejected by test sink" % address
        if local.startswith("later-"):
            return "451 4.3.2 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.folder:
            base = os.path.join(self.folder, "%04d" % self.count)
            with open(base + ".eml.tmp", "wb") as f:
                f.write(envelope.original_content)
            meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                    "peer_port": session.peer[1]}
            with open(base + ".json", "w") as f:
                json.dump(meta, f)
            os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK queued as %04d" % self.count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--dir", default="")
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args()
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler(args.dir)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="waymark-test-sink", ident="waymark test sink"),
        "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(args.port_file + ".tmp", args.port_file)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    loop.call_later(args.max_seconds, loop.stop)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
