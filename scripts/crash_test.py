"""Crash test: order load against the real server, SIGKILL at random moments, restart,
and check that nothing acknowledged was lost or doubled and the ledger still holds.

Usage: crash_test.py BINARY DATABASE_URL ROUNDS

Each round starts `hashmarket serve`, runs 8 client threads placing crossing buy and
sell orders (each with its own Idempotency-Key), kills the server with SIGKILL after a
random 0.3-1.5 s, restarts it, and checks:
  - every order acknowledged with 2xx exists, once, with the id that was answered;
  - re-sending an acknowledged request with its key replays the same order;
  - `hashmarket verify` finds every ledger invariant intact.
Exits non-zero on the first violation. Talks only to 127.0.0.1."""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

PASSWORD = "crash test password 123"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(base, method, path, body=None, token=None, key=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    if key:
        req.add_header("idempotency-key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null"), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


class Server:
    def __init__(self, binary, url, port, log):
        self.args = [binary, "serve", "--bind", f"127.0.0.1:{port}", "--database-url", url, "--workers", "2"]
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc = None

    def start(self):
        env = dict(os.environ, HASHMARKET_JWT_SECRET="crash-test-secret-" + "x" * 32)
        # The crash test hammers one server from one address: lift the rate limits.
        for name in ("USER", "IP", "LOGIN_IP"):
            env[f"HASHMARKET_RATE_LIMIT_{name}_PER_MINUTE"] = "100000000"
            env[f"HASHMARKET_RATE_LIMIT_{name}_BURST"] = "1000000"
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log, env=env)
        for _ in range(300):
            try:
                if request(self.base, "GET", "/readyz", timeout=1)[0] == 200:
                    book = request(self.base, "GET", "/v1/markets/sha256-30d/book", timeout=1)[0]
                    if book == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("crash test: the server did not become ready")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"crash test: {' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout.strip()


def login(base, email):
    status, body, _ = request(base, "POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, body
    return body["access_token"]


def client(base, token, side, rig_id, acked, stop, lock):
    rng = random.Random()
    while not stop.is_set():
        price_ticks = rng.randint(45, 55)
        body = {"market": "sha256-30d", "side": side, "hash_rate": f"{rng.randint(1, 3)} TH/s",
                "price": f"0.000000{price_ticks}", "time_in_force": rng.choice(["gtc", "gtc", "ioc"])}
        if side == "sell":
            body["rig_id"] = rig_id
        key = str(uuid.uuid4())
        try:
            status, resp, _ = request(base, "POST", "/v1/orders", body, token, key, timeout=5)
        except OSError:
            continue  # the server died mid-request: not acknowledged, nothing to check
        if 200 <= status < 300:
            with lock:
                acked.append((token, key, body, resp["id"]))


def main():
    binary, url, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    log = open(os.environ.get("CRASH_LOG", os.devnull), "ab")
    base_env = dict(os.environ, DATABASE_URL=url)
    emails = {name: f"{name}-{uuid.uuid4().hex[:8]}@example.com" for name in ("operator", "buyer", "seller")}
    for name, email in emails.items():
        role = "operator" if name == "operator" else "user"
        subprocess.run([binary, "user", "create", "--email", email, "--password", PASSWORD, "--role", role],
                       check=True, capture_output=True, env=base_env)
    server = Server(binary, url, free_port(), log)
    server.start()
    tokens = {name: login(server.base, email) for name, email in emails.items()}
    status, _, _ = request(server.base, "POST", "/v1/admin/credits",
                           {"user_id": run_me(server.base, tokens["buyer"]), "asset": "BTC", "amount": "1000",
                            "reference": "crash test"}, tokens["operator"], str(uuid.uuid4()))
    assert status == 201
    status, rig, _ = request(server.base, "POST", "/v1/rigs",
                             {"name": "crash rig", "algorithm": "sha256", "hash_rate": "5 EH/s"}, tokens["seller"])
    assert status == 201, rig
    acked, lock = [], threading.Lock()
    for round_no in range(1, rounds + 1):
        stop = threading.Event()
        trader = {"buy": "buyer", "sell": "seller"}
        threads = [threading.Thread(target=client,
                                    args=(server.base, tokens[trader[side]], side, rig["id"], acked, stop, lock))
                   for side in ("buy", "sell") * 4]
        for t in threads:
            t.start()
        time.sleep(random.uniform(0.3, 1.5))
        server.kill()
        stop.set()
        for t in threads:
            t.join()
        server.start()
        check(server.base, acked, binary, base_env)
        print(f"round {round_no}: killed and restarted; {len(acked)} acknowledged orders all present once; ledger verified",
              flush=True)
    server.kill()
    print(f"crash test: {rounds} rounds, {len(acked)} acknowledged orders, no loss, no duplicates")


def run_me(base, token):
    status, body, _ = request(base, "GET", "/v1/me", token=token)
    assert status == 200
    return body["user_id"]


def check(base, acked, binary, env):
    ids = [order_id for _, _, _, order_id in acked]
    if len(ids) != len(set(ids)):
        raise SystemExit("crash test: one order id acknowledged twice")
    for token, key, body, order_id in acked:
        status, order, _ = request(base, "GET", f"/v1/orders/{order_id}", token=token)
        if status != 200:
            raise SystemExit(f"crash test: acknowledged order {order_id} is missing after restart ({status})")
    for token, key, body, order_id in random.sample(acked, min(20, len(acked))):
        status, replay, headers = request(base, "POST", "/v1/orders", body, token, key)
        if status != 201 or replay["id"] != order_id or headers.get("idempotent-replayed") != "true":
            raise SystemExit(f"crash test: replay of {key} gave {status} {replay}")
    out = subprocess.run([binary, "verify"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"crash test: verify failed after a crash:\n{out.stdout}{out.stderr}")


if __name__ == "__main__":
    main()
