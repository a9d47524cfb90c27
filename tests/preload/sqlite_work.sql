-- tests/preload/sqlite_work.sql — create, fill, index, query and check a database (run by preload_test.sh).
PRAGMA page_size = 4096;
PRAGMA cache_size = -8000;
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES customer(id), amount INTEGER,
                    note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO customer SELECT i, 'customer-' || i, 'city-' || (i * 7 % 97) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
INSERT INTO orders SELECT i, 1 + (i * 7919 % 5000), (i * 104729) % 10007, printf('%.*c', i % 200, 'x') FROM n;
CREATE INDEX orders_by_customer ON orders(customer);
CREATE INDEX customer_by_city ON customer(city, name);
SELECT count(*), sum(amount), max(length(note)) FROM orders;
SELECT c.city, count(*), sum(o.amount) FROM orders o JOIN customer c ON c.id = o.customer
  GROUP BY c.city ORDER BY 3 DESC LIMIT 5;
SELECT name FROM customer WHERE city = 'city-42' ORDER BY name LIMIT 3;
UPDATE orders SET note = upper(note) || note WHERE id % 5 = 0;
DELETE FROM orders WHERE amount < 100;
SELECT count(*), sum(length(note)) FROM orders;
VACUUM;
PRAGMA integrity_check;
