// Workload for scripts/realworld.py: Node's worker_threads (each worker is a V8 isolate on a
// pthread), a SharedArrayBuffer with Atomics, and libuv's thread pool (crypto.pbkdf2, zlib)
// alongside V8's platform threads. Deterministic output.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const crypto = require('crypto');
const zlib = require('zlib');

if (!isMainThread) {
  const { id, shared } = workerData;
  const counters = new Int32Array(shared);
  let sum = 0;
  for (let i = id; i < 2_000_000; i += 4) sum = (sum + (i * i) % 1000003) % 1000000007;
  for (let i = 0; i < 10000; i++) Atomics.add(counters, 0, 1);
  Atomics.add(counters, 1, 1);
  Atomics.notify(counters, 1);
  parentPort.postMessage(sum);
} else {
  const shared = new SharedArrayBuffer(8);
  const counters = new Int32Array(shared);
  const sums = [];
  let done = 0;
  const pending = [];
  for (let id = 0; id < 4; id++) {
    const w = new Worker(__filename, { workerData: { id, shared } });
    pending.push(new Promise((res, rej) => {
      w.on('message', (s) => sums.push(s));
      w.on('error', rej);
      w.on('exit', (code) => (code === 0 ? res() : rej(new Error('worker exit ' + code))));
    }));
  }
  const pbk = [];
  for (let i = 0; i < 8; i++) {
    pbk.push(new Promise((res, rej) => crypto.pbkdf2('secret' + i, 'salt', 20000, 32, 'sha256',
      (e, k) => (e ? rej(e) : res(k.toString('hex').slice(0, 8))))));
  }
  const data = Buffer.alloc(4 << 20, 'rpthread realworld ');
  const z = new Promise((res, rej) => zlib.gzip(data, (e, c) => e ? rej(e) :
    zlib.gunzip(c, (e2, d) => e2 ? rej(e2) : res(d.equals(data)))));
  Promise.all([...pending, Promise.all(pbk), z]).then((r) => {
    sums.sort((a, b) => a - b);
    console.log('worker sums ' + sums.join(' '));
    console.log('atomics ' + Atomics.load(counters, 0) + ' ' + Atomics.load(counters, 1));
    console.log('pbkdf2 ' + r[4].join(' '));
    console.log('zlib roundtrip ' + r[5]);
    console.log('ok');
  }, (e) => { console.error(e); process.exit(1); });
}
