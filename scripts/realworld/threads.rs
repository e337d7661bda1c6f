// Workload for scripts/realworld.py: Rust's std::thread on top of the C library's pthreads
// (std calls pthread_create/pthread_join/pthread_attr_setstacksize, pthread_getattr_np for
// stack guards, pthread_setname_np, and TLS destructors at thread exit). Deterministic output.
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex, RwLock};
use std::thread;

static DROPPED: AtomicUsize = AtomicUsize::new(0);

struct Guard(usize);
impl Drop for Guard {
    fn drop(&mut self) {
        DROPPED.fetch_add(self.0, Ordering::SeqCst);
    }
}
thread_local! {
    static LOCAL: RefCell<Option<Guard>> = RefCell::new(None);
}

fn collatz_steps(mut n: u64) -> u64 {
    let mut s = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        s += 1;
    }
    s
}

fn main() {
    let nthreads = 8;
    // 1. Named threads with explicit stack sizes, a shared Mutex<HashMap> and a Barrier.
    let map = Arc::new(Mutex::new(HashMap::new()));
    let barrier = Arc::new(Barrier::new(nthreads));
    let handles: Vec<_> = (0..nthreads)
        .map(|t| {
            let map = Arc::clone(&map);
            let barrier = Arc::clone(&barrier);
            thread::Builder::new()
                .name(format!("worker-{t}"))
                .stack_size(256 * 1024 + t * 4096)
                .spawn(move || {
                    assert_eq!(thread::current().name(), Some(format!("worker-{t}").as_str()));
                    LOCAL.with(|l| *l.borrow_mut() = Some(Guard(t + 1)));
                    barrier.wait();
                    let mut sum = 0u64;
                    for n in (1 + t as u64..200_000).step_by(nthreads) {
                        sum += collatz_steps(n);
                    }
                    map.lock().unwrap().insert(t, sum);
                    sum
                })
                .unwrap()
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let from_map: u64 = map.lock().unwrap().values().sum();
    assert_eq!(total, from_map);
    println!("collatz total {total}");
    println!("tls destructors {}", DROPPED.load(Ordering::SeqCst));

    // 2. Scoped threads borrowing the stack; RwLock readers and writers.
    let data: Vec<u64> = (0..1_000_000).collect();
    let rw = RwLock::new(0u64);
    thread::scope(|s| {
        for chunk in data.chunks(125_000) {
            let rw = &rw;
            s.spawn(move || {
                let part: u64 = chunk.iter().map(|x| x * x % 1_000_003).sum();
                let _seen = *rw.read().unwrap();
                *rw.write().unwrap() += part;
            });
        }
    });
    println!("scoped sum {}", rw.into_inner().unwrap());

    // 3. Channels: producers and one consumer.
    let (tx, rx) = mpsc::channel();
    for p in 0..4u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..10_000u64 {
                tx.send(p * 1_000_000 + i).unwrap();
            }
        });
    }
    drop(tx);
    let received: u64 = rx.iter().sum();
    println!("channel sum {received}");

    // 4. Condvar hand-off and park/unpark ping-pong.
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    let waiter = thread::spawn(move || {
        let (m, c) = &*pair2;
        let mut g = m.lock().unwrap();
        while *g < 1000 {
            g = c.wait(g).unwrap();
        }
        *g
    });
    for _ in 0..1000 {
        let (m, c) = &*pair;
        *m.lock().unwrap() += 1;
        c.notify_all();
    }
    println!("condvar {}", waiter.join().unwrap());
    let main_thread = thread::current();
    let parker = thread::spawn(move || {
        for _ in 0..100 {
            main_thread.unpark();
            thread::yield_now();
        }
    });
    parker.join().unwrap();

    // 5. A panicking thread: the panic unwinds to the thread's start and join reports it.
    let r = thread::Builder::new()
        .name("panicker".into())
        .spawn(|| -> u32 { panic!("expected panic in a thread") })
        .unwrap()
        .join();
    println!("panic caught {}", r.is_err());

    // 6. Many short-lived threads (stack cache), joined in reverse order.
    let hs: Vec<_> = (0..200u64).map(|i| thread::spawn(move || i * 3)).collect();
    let s: u64 = hs.into_iter().rev().map(|h| h.join().unwrap()).sum();
    println!("short threads {s}");
    println!("ok");
}
