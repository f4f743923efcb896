// Drives Cube's ksql driver (@cubejs-backend/ksql-driver) the way Cube uses it: test the
// connection, read the schema, load a pre-aggregation from the earliest offset, describe it for
// streaming; with "drop" as the second argument, drop it. The server is at
// http://127.0.0.1:<process.argv[2]>.
const { KsqlDriver } = require("@cubejs-backend/ksql-driver");

async function main() {
  const driver = new KsqlDriver({ url: `http://127.0.0.1:${process.argv[2]}` });
  const out = {};
  if (process.argv[3] === "drop") {
    out.dropped = await driver.dropTable("prod.orders_by_status");
    try {
      await driver.query("DROP STREAM nope");
    } catch (error) {
      out.error = error.message;
    }
    process.stdout.write(JSON.stringify(out));
    return;
  }
  await driver.testConnection();
  out.connected = true;
  out.created = await driver.query(
    "CREATE STREAM orders (id INT KEY, status STRING, amount DOUBLE, ts TIMESTAMP) " +
      "WITH (kafka_topic='orders', value_format='JSON', partitions=2)"
  );
  out.inserted = await driver.query(
    "INSERT INTO orders (id, status, amount, ts) VALUES (1, 'new', 9.5, '2024-01-02T03:04:05.678')"
  );
  out.tables = await driver.fetchTables();
  out.schema = await driver.tablesSchema();
  out.loaded = await driver.loadPreAggregationIntoTable(
    "prod.orders_by_status",
    "CREATE TABLE `prod.orders_by_status` AS SELECT status, COUNT(*) AS n FROM orders " +
      "WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY status",
    [],
    { streamOffset: "earliest" }
  );
  out.download = await driver.downloadTable("prod.orders_by_status", { streamOffset: "earliest" });
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
