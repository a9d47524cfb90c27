-- bench/programs/sqlite_workload.sql — the sqlite3 session the README records and replays: create, fill,
-- index, query, update, delete, check.
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score INTEGER, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
INSERT INTO t SELECT i, 'user' || i, (i * 7919) % 1000, hex(randomblob(i % 64)) FROM n;
CREATE INDEX t_score ON t(score);
CREATE INDEX t_name ON t(name);
SELECT count(*), avg(score) FROM t WHERE score BETWEEN 100 AND 200;
SELECT name FROM t ORDER BY score DESC, name LIMIT 5;
UPDATE t SET note = note || note WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT score, count(*) FROM t GROUP BY score ORDER BY 2 DESC LIMIT 3;
PRAGMA integrity_check;
