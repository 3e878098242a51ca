#!/usr/bin/python3
"""http_step_timer: a timing relay for HTTP/1.1 on loopback, used by bench_docker_api.py --steps.

Listens on 127.0.0.1:PORT and relays each connection to an upstream (`HOST:PORT` or
`unix:PATH`), byte for byte. For every request it sees go up it notes the request line and the
time from its first byte to the first and the last byte of what came back before the next request
(or the close): one line per request, "<request line>\t<first ms>\t<last ms>", in LOG. It adds a
relay hop to both paths it is put in front of, so only differences between paths mean anything.

Usage: http_step_timer.py PORT UPSTREAM LOG
"""

import asyncio
import sys
import time

METHODS = (b"GET ", b"POST", b"HEAD", b"DELE", b"PUT ")


async def relay(reader, writer, going_up, steps):
    while True:
        try:
            data = await reader.read(65536)
        except ConnectionError:  # the CLI resets its wait connection when it exits
            break
        if not data:
            break
        now = time.perf_counter()
        if going_up and data[:4] in METHODS:
            steps.append([data.split(b"\r\n", 1)[0].decode(errors="replace"), now, None, None])
        elif not going_up and steps:
            if steps[-1][2] is None:
                steps[-1][2] = now
            steps[-1][3] = now
        writer.write(data)
        try:
            await writer.drain()
        except ConnectionError:
            break
    try:
        writer.close()
    except OSError:
        pass


def main():
    port, upstream, log = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "a", buffering=1)

    async def on_client(client_r, client_w):
        if upstream.startswith("unix:"):
            up_r, up_w = await asyncio.open_unix_connection(upstream[5:])
        else:
            host, p = upstream.rsplit(":", 1)
            up_r, up_w = await asyncio.open_connection(host, int(p))
        steps = []
        await asyncio.gather(relay(client_r, up_w, True, steps), relay(up_r, client_w, False, steps),
                             return_exceptions=True)
        for line, t0, first, last in steps:
            log.write("%s\t%.3f\t%.3f\n" % (line, ((first or t0) - t0) * 1e3, ((last or t0) - t0) * 1e3))

    async def serve():
        server = await asyncio.start_server(on_client, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
