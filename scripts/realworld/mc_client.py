"""Client for the memcached workload of scripts/realworld.py: several threads, each on its own
connection, store and read back distinct keys with the text protocol, then check the server's
counters. Prints a deterministic summary; exits non-zero on any mismatch."""
import socket
import sys
import threading

PORT = int(sys.argv[1])
THREADS, KEYS = 8, 1500
errors = []


def conn():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    return s, s.makefile("rb")


def worker(t):
    s, f = conn()
    try:
        for i in range(KEYS):
            v = f"value-{t}-{i}-" + "x" * (i % 200)
            s.sendall(f"set k{t}:{i} {i} 0 {len(v)}\r\n{v}\r\n".encode())
            if f.readline() != b"STORED\r\n":
                errors.append(f"set k{t}:{i}")
                return
        for i in range(KEYS):
            s.sendall(f"get k{t}:{i}\r\n".encode())
            head = f.readline().split()
            v = f"value-{t}-{i}-" + "x" * (i % 200)
            if head[:3] != [b"VALUE", f"k{t}:{i}".encode(), str(i).encode()]:
                errors.append(f"get k{t}:{i}: {head}")
                return
            data = f.read(int(head[3]) + 2)
            if data[:-2].decode() != v or f.readline() != b"END\r\n":
                errors.append(f"value k{t}:{i}")
                return
        s.sendall(f"incr ctr {1}\r\n".encode() * 100)
        for _ in range(100):
            f.readline()
    finally:
        s.close()


s, f = conn()
s.sendall(b"set ctr 0 0 1\r\n0\r\n")
f.readline()
ts = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
for t in ts:
    t.start()
for t in ts:
    t.join()
s.sendall(b"get ctr\r\n")
f.readline()
ctr = f.readline().strip().decode()
f.readline()
s.sendall(b"stats\r\n")
stats = {}
while True:
    line = f.readline().decode().split()
    if line == ["END"]:
        break
    stats[line[1]] = line[2]
print(f"stored {THREADS * KEYS} keys, read back, errors {len(errors)}")
print(f"counter {ctr}")
print(f"server threads {stats.get('threads')} curr_items {stats.get('curr_items')}")
for e in errors[:5]:
    print("error:", e)
sys.exit(1 if errors or ctr != str(THREADS * 100) else 0)
