#!/usr/bin/env python3
"""Network helpers for Tests/hosts/testhosts (standard library only).

Subcommands:
  silent ADDR PORT PIDFILE     serve a port that completes the TCP handshake but never sends a byte
  blackhole ADDR PORT PIDFILE  serve a port whose SYNs are dropped (connect() hangs)
  banners PORT ADDR...         check that every ADDR:PORT sends an SSH banner; exit 1 listing failures
  probe ADDR PORT [TIMEOUT]    print what ADDR:PORT does: refused | timeout-connect | silent | banner:<line>
  faults PORT REFUSED SILENT BLACKHOLE   check the three fault addresses (in parallel); exit 1 if one misbehaves
  hostsjson OUT ADDRFILE       write hosts.json (see write_hosts_json)

The two servers write PIDFILE only once they are ready, then run until SIGTERM/SIGINT.
"""

import concurrent.futures
import json
import os
import select
import signal
import socket
import sys
import time


def _write_pidfile(path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, path)


def _install_term_handler(pidfile):
    def stop(signum, frame):
        try:
            os.unlink(pidfile)
        except OSError:
            pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def silent(addr, port, pidfile):
    """Accept every connection, read and discard what the peer sends, never write; close on peer EOF.

    Accepting (rather than leaving connections in the accept queue) keeps the port usable for any number
    of connections over a long test run; from the client's side it is the same: TCP connects, no bytes.
    """
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(4096)
    _install_term_handler(pidfile)
    _write_pidfile(pidfile)
    poller = select.poll()
    poller.register(lsock, select.POLLIN)
    conns = {}
    while True:
        for fd, _ in poller.poll():
            if fd == lsock.fileno():
                try:
                    conn, _ = lsock.accept()
                except OSError:
                    continue
                conns[conn.fileno()] = conn
                poller.register(conn, select.POLLIN)
                continue
            conn = conns.get(fd)
            if conn is None:
                continue
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                poller.unregister(fd)
                del conns[fd]
                conn.close()


def blackhole(addr, port, pidfile):
    """Listen with backlog 0 and fill the accept queue with one connection of our own, never accepting.

    Linux drops a SYN that arrives at a listener whose accept queue is full, so every further
    connect() to ADDR:PORT retransmits SYNs until the client's own timeout: the handshake never completes.
    """
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(0)
    fillers = []
    # With backlog 0 the queue holds one established connection; keep adding until a connect times out,
    # which proves the queue is full (and bounds the work if the kernel ever allows more).
    for _ in range(8):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(0.5)
        try:
            s.connect((addr, port))
        except (socket.timeout, BlockingIOError):
            s.close()
            break
        fillers.append(s)
    else:
        sys.exit("blackhole: accept queue of %s:%d never filled" % (addr, port))
    _install_term_handler(pidfile)
    _write_pidfile(pidfile)
    while True:
        signal.pause()


def read_banner(addr, port, timeout):
    """Return the SSH identification line of ADDR:PORT, raising OSError/socket.timeout on failure."""
    with socket.create_connection((addr, port), timeout=timeout) as s:
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = s.recv(256)
            if not chunk:
                raise OSError("connection closed before banner")
            buf += chunk
        line = buf.split(b"\n", 1)[0].rstrip(b"\r").decode("ascii", "replace")
        if not line.startswith("SSH-2.0-"):
            raise OSError("unexpected banner %r" % line)
        return line


def banners(port, addrs, timeout=10.0, workers=32):
    failures = []

    def check(addr):
        try:
            read_banner(addr, port, timeout)
            return None
        except Exception as e:  # noqa: BLE001 - report every kind of failure
            return "%s:%d: %s" % (addr, port, e)

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(check, addrs):
            if result:
                failures.append(result)
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


def probe(addr, port, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout-connect"
    except OSError as e:
        return "error:%s" % e
    try:
        data = s.recv(256)
    except socket.timeout:
        return "silent"
    finally:
        s.close()
    if not data:
        return "closed"
    return "banner:" + data.split(b"\n", 1)[0].rstrip(b"\r").decode("ascii", "replace")


def faults(port, refused, silent_addr, blackhole_addr, timeout=0.7):
    expected = [("REFUSED", refused, "refused"), ("SILENT", silent_addr, "silent"),
                ("BLACKHOLE", blackhole_addr, "timeout-connect")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        got = list(pool.map(lambda e: probe(e[1], port, timeout), expected))
    bad = 0
    for (name, addr, want), result in zip(expected, got):
        if result != want:
            print("%s %s:%d: expected %s, got %s" % (name, addr, port, want, result), file=sys.stderr)
            bad = 1
    return bad


def write_hosts_json(path, addresses_file):
    """Write hosts.json from the TH_* environment variables set by testhosts and one host address per line."""
    e = os.environ
    port = int(e["TH_PORT"])
    keys = e["TH_KEYS"]
    with open(addresses_file) as f:
        addresses = [line.strip() for line in f if line.strip()]
    out = {
        "hosts": [{"name": "h%d" % (i + 1), "address": a, "port": port} for i, a in enumerate(addresses)],
        "users": {
            "plain": {"name": e["TH_USER_PLAIN"], "password": e["TH_PASS_PLAIN"]},
            "sudopass": {"name": e["TH_USER_SUDOPASS"], "password": e["TH_PASS_SUDOPASS"]},
            "appliance": {"name": e["TH_USER_APPLIANCE"], "password": e["TH_PASS_APPLIANCE"]},
        },
        "keys": {
            "ed25519": os.path.join(keys, "id_ed25519"),
            "ecdsa": os.path.join(keys, "id_ecdsa"),
            "ed25519_passphrase": os.path.join(keys, "id_ed25519_passphrase"),
            "passphrase": open(os.path.join(keys, "passphrase")).read().rstrip("\n"),
            "rsa": os.path.join(keys, "id_rsa"),
        },
        "known_hosts": os.path.join(e["TH_STATE"], "known_hosts"),
        "known_hosts_hashed": os.path.join(e["TH_STATE"], "known_hosts_hashed"),
        "faults": {
            "refused": {"address": e["TH_REFUSED"], "port": port},
            "silent": {"address": e["TH_SILENT"], "port": port},
            "blackhole": {"address": e["TH_BLACKHOLE"], "port": port},
        },
        "appliance": {"name": "appliance", "address": e["TH_APPLIANCE"], "port": port},
        # Beyond the agreed schema: a host offering only an RSA host key (rsa-sha2-512/256).
        "rsa_only": {"name": "rsa-only", "address": e["TH_RSA_ONLY"], "port": port},
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    os.rename(tmp, path)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "silent":
        silent(args[0], int(args[1]), args[2])
    elif cmd == "blackhole":
        blackhole(args[0], int(args[1]), args[2])
    elif cmd == "banners":
        sys.exit(banners(int(args[0]), args[1:]))
    elif cmd == "probe":
        print(probe(args[0], int(args[1]), float(args[2]) if len(args) > 2 else 2.0))
    elif cmd == "faults":
        sys.exit(faults(int(args[0]), args[1], args[2], args[3]))
    elif cmd == "hostsjson":
        write_hosts_json(args[0], args[1])
    else:
        sys.exit("unknown subcommand %r\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    main(sys.argv)
