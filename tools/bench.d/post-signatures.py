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
#   post-signatures.py URL CA.pem THREADS CODE:BODY.json...
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse


def main():
    url, ca, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    jobs = [item.split(":", 1) for item in sys.argv[4:]]
    parsed = urllib.parse.urlsplit(url)
    context = ssl.create_default_context(cafile=ca)
    lock = threading.Lock()
    accepted = []
    failures = []

    def post(code, body_file):
        with open(body_file, "rb") as f:
            body = f.read()
        connection = http.client.HTTPSConnection(parsed.hostname, parsed.port, context=context, timeout=60)
        try:
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
        for code, body_file in my_jobs:
            try:
                post(code, body_file)
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
