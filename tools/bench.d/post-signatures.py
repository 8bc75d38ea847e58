#!/usr/bin/env python3
# post-signatures.py: the light client of tools/bench's "8 clients" row.
#
# Posts prepared submissions (docs/protocol.md §8: the signatures of a
# request, made beforehand by `openssl cms -sign` on the card) to the
# portal, each over its own verified TLS connection as a separate client
# would, from THREADS threads at once, and prints the wall-clock seconds
# the whole took and how many the portal accepted. Python's ssl module
# leaves the interpreter lock while it handshakes, sends and waits, so the
# threads are concurrent clients. The client does far less work per
# submission than the portal, so the row measures the portal, not the
# clients (imzala-cli spends ~15 times the portal's CPU on a submission:
# modules, PIN, signing).
#
#   post-signatures.py [--fetch] [--from PREFIX] URL CA.pem THREADS CODE:BODY.json...
#
# --fetch: each client first GETs its request on the same connection, as
# imzala-cli does. --from PREFIX: the Nth client connects from the address
# PREFIX(N % 250 + 2), as separate clients would (nginx's limit_req counts
# per address).
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse


def main():
    args = sys.argv[1:]
    fetch = "--fetch" in args
    if fetch:
        args.remove("--fetch")
    prefix = None
    if "--from" in args:
        at = args.index("--from")
        prefix = args[at + 1]
        del args[at:at + 2]
    url, ca, threads = args[0], args[1], int(args[2])
    jobs = [(n, *item.split(":", 1)) for n, item in enumerate(args[3:])]
    parsed = urllib.parse.urlsplit(url)
    context = ssl.create_default_context(cafile=ca)
    lock = threading.Lock()
    accepted = []
    failures = []

    def post(n, code, body_file):
        with open(body_file, "rb") as f:
            body = f.read()
        source = (f"{prefix}{n % 250 + 2}", 0) if prefix else None
        connection = http.client.HTTPSConnection(parsed.hostname, parsed.port, context=context, timeout=60,
                                                 source_address=source)
        try:
            if fetch:
                connection.request("GET", f"/api/v1/requests/{code}")
                fetched = connection.getresponse()
                fetched.read()
                if fetched.status != 200:
                    raise RuntimeError(f"GET answered {fetched.status}")
            connection.request("POST", f"/api/v1/requests/{code}/signatures", body,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        status = json.loads(answer).get("status") if response.status == 200 else None
        with lock:
            (accepted if status == "accepted" else failures).append((code, response.status, answer[:200]))

    def worker(my_jobs):
        for n, code, body_file in my_jobs:
            try:
                post(n, code, body_file)
            except Exception as e:  # a refused or broken connection counts as a failure
                with lock:
                    failures.append((code, 0, str(e)))

    parts = [jobs[i::threads] for i in range(threads)]
    start = time.monotonic()
    workers = [threading.Thread(target=worker, args=(part,)) for part in parts]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - start
    for code, status, answer in failures[:3]:
        print(f"post-signatures.py: {code}: {status} {answer!r}", file=sys.stderr)
    print(f"{elapsed:.6f} {len(accepted)}")


if __name__ == "__main__":
    main()
