// Workload for scripts/realworld.py: the JVM creates every thread (main, GC, JIT compilers,
// the pool below, ForkJoin workers) with pthread_create on stacks and guard pages it sizes
// itself, and reads thread stacks with pthread_getattr_np. Deterministic output.
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;

public class Pool {
    static long work(int seed) {
        long h = seed;
        for (int i = 0; i < 200_000; i++) h = h * 6364136223846793005L + 1442695040888963407L;
        return h & 0xffff;
    }

    public static void main(String[] args) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Long>> fs = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            final int seed = i;
            fs.add(pool.submit(() -> work(seed)));
        }
        long total = 0;
        for (Future<Long> f : fs) total += f.get();
        pool.shutdown();
        if (!pool.awaitTermination(60, TimeUnit.SECONDS)) throw new AssertionError("pool hang");
        System.out.println("executor " + total);

        ConcurrentHashMap<Integer, Integer> map = new ConcurrentHashMap<>();
        IntStream.range(0, 1_000_000).parallel().forEach(i -> map.merge(i % 1000, 1, Integer::sum));
        System.out.println("parallel stream " + map.size() + " " + map.get(7));

        Object lock = new Object();
        long[] counter = {0};
        Thread[] ts = new Thread[16];
        for (int t = 0; t < ts.length; t++) {
            ts[t] = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) synchronized (lock) { counter[0]++; }
            }, "sync-" + t);
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        System.out.println("synchronized " + counter[0]);

        // Deep recursion in a thread with a requested stack size: the JVM's guard pages
        // turn the overflow into StackOverflowError, not a crash.
        AtomicInteger depth = new AtomicInteger();
        Thread deep = new Thread(null, () -> {
            try { recurse(depth); } catch (StackOverflowError e) { System.out.println("stack overflow caught"); }
        }, "deep", 512 * 1024);
        deep.start();
        deep.join();

        CompletableFuture<Integer> cf = CompletableFuture.supplyAsync(() -> 21).thenApplyAsync(x -> x * 2);
        System.out.println("completable " + cf.get());
        System.out.println("ok");
    }

    static void recurse(AtomicInteger d) { d.incrementAndGet(); recurse(d); }
}
