-- from developer-guide/ksqldb-reference/alter-system.md
-- ALTER SYSTEM is available only from the ksql command line connected to a ksqlDB cluster in
-- Confluent Cloud (with ksql.runtime.feature.shared.enabled): elsewhere the statement parses
-- and is refused, naming what to use instead.

--@test: the page's example parses and is refused outside Confluent Cloud
--@expected.message: ALTER SYSTEM is not supported
ALTER SYSTEM 'auto.offset.reset'='earliest';

