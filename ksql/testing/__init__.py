"""Testing SQL: `ksql test` (ksqlDB's test-runner triples, SQL test files with ASSERT
statements, ksqlDB's JSON test cases) and helpers for users' own tests."""
