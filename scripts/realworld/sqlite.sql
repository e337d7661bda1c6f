-- Workload for scripts/realworld.py: with PRAGMA threads, SQLite sorts large index builds and
-- ORDER BYs with worker threads (its multi-threaded external merge sort). Deterministic output.
PRAGMA threads=4;
PRAGMA cache_size=-2000;
CREATE TABLE t(a INTEGER, b TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<400000)
INSERT INTO t SELECT (x*7919)%400009, printf('%08d-%s', (x*104729)%1000003, substr('abcdefghijklmnopqrstuvwxyz', x%26+1)) FROM c;
CREATE INDEX ib ON t(b);
CREATE INDEX ia ON t(a, b);
SELECT count(*), sum(a), min(b), max(b) FROM t;
SELECT b FROM t ORDER BY b LIMIT 3 OFFSET 200000;
PRAGMA integrity_check;
