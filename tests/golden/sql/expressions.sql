-- Expression semantics: nulls, integer division, CASE, IN, casts, string functions.
SET 'auto.offset.reset'='earliest';
CREATE STREAM nums (k INT KEY, a INT, b INT, s STRING, d DOUBLE)
  WITH (kafka_topic='nums', value_format='JSON', partitions=1);
INSERT INTO nums (k, a, b, s, d) VALUES (1, 7, 2, ' x ', 1.5);
INSERT INTO nums (k, a, b, s, d) VALUES (2, -7, 0, NULL, 2.0);
INSERT INTO nums (k, a, b, s, d) VALUES (3, NULL, 3, 'abc', 1E10);
SELECT k, a / b AS q, a % b AS r, a + b * 2 AS e, -a AS neg FROM nums;
SELECT k, CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'none' END AS sign,
       a IN (7, 8) AS in78, a IS NULL AS missing, COALESCE(s, 'dflt') AS s2 FROM nums;
SELECT k, TRIM(s) AS t, LEN(s) AS l, SUBSTRING(s, 2) AS sub, CONCAT(s, '-', CAST(k AS STRING)) AS c FROM nums;
SELECT k, d, CAST(d AS INT) AS i, CAST(d AS STRING) AS ds, CAST('12' AS INT) + 1 AS p FROM nums;
-- integers with decimal literals: products and quotients keep Arrow's precision in range
SELECT k, a * 0.908 AS converted, a / 0.5 AS halves, a % 1.5 AS rest FROM nums;
