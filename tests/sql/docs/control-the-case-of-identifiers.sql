-- from how-to-guides/control-the-case-of-identifiers.md
-- Backticks keep an identifier's case; unquoted identifiers are uppercased.

--@test: the guide's s2 stream, its rows and the cased column names of a query over it
CREATE STREAM `s2` (`foo` VARCHAR KEY, `BAR` INT, `Baz` VARCHAR, `grault` STRUCT<`Corge` VARCHAR, `garply` INT>, qux INT)
  WITH (kafka_topic='s2', partitions=1, value_format='avro');
CREATE STREAM out AS SELECT `foo`, `BAR`, `Baz`, `grault`->`Corge`, `grault`->`garply`, qux, QUX AS qux2 FROM `s2` EMIT CHANGES;
INSERT INTO `s2` (`foo`, `BAR`, `Baz`, `grault`, qux) VALUES ('k1', 1, 'x', STRUCT(`Corge` := 'v1', `garply` := 5), 2);
INSERT INTO `s2` (`foo`, `BAR`, `Baz`, `grault`, qux) VALUES ('k2', 3, 'y', STRUCT(`Corge` := 'v2', `garply` := 6), 4);
INSERT INTO `s2` (`foo`, `BAR`, `Baz`, `grault`, qux) VALUES ('k3', 5, 'z', STRUCT(`Corge` := 'v3', `garply` := 8), 6);
ASSERT STREAM out (`foo` STRING KEY, `BAR` INT, `Baz` STRING, `Corge` STRING, `garply` INT, QUX INT, QUX2 INT)
  WITH (kafka_topic='OUT', value_format='AVRO');
ASSERT VALUES out (`foo`, `BAR`, `Baz`, `Corge`, `garply`, qux, qux2) VALUES ('k1', 1, 'x', 'v1', 5, 2, 2);
ASSERT VALUES out (`foo`, `BAR`, `Baz`, `Corge`, `garply`, qux, qux2) VALUES ('k2', 3, 'y', 'v2', 6, 4, 4);
ASSERT VALUES out (`foo`, `BAR`, `Baz`, `Corge`, `garply`, qux, qux2) VALUES ('k3', 5, 'z', 'v3', 8, 6, 6);

--@test: a cased name must be quoted to be found
--@expected.message: cannot be resolved
CREATE STREAM `s2` (`foo` VARCHAR KEY, `Baz` VARCHAR) WITH (kafka_topic='s2', partitions=1, value_format='json');
CREATE STREAM out AS SELECT `foo`, baz FROM `s2`;

--@test: an unquoted name is found in any case
CREATE STREAM s (id INT KEY, qux INT) WITH (kafka_topic='s', partitions=1, value_format='json');
CREATE STREAM out AS SELECT ID, Qux, qUx AS other FROM S;
INSERT INTO s (id, qux) VALUES (1, 2);
ASSERT VALUES out (id, qux, other) VALUES (1, 2, 2);
