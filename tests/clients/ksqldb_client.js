// Drives the npm `ksqldb-client` through the calls its README documents, against the server
// at process.argv[2] (a port on 127.0.0.1); prints what each call returned as one JSON object.
const KsqldbClient = require("ksqldb-client");

const EARLIEST = { "auto.offset.reset": "earliest" };

async function poll(what, ready, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await what();
    if (ready(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main() {
  const client = new KsqldbClient({ host: "http://127.0.0.1", port: Number(process.argv[2]) });
  await client.connect();
  const out = {};
  out.createStream = await client.executeStatement(
    "CREATE STREAM riders (id INT KEY, name STRING, speed DOUBLE) " +
      "WITH (kafka_topic='riders', value_format='JSON', partitions=1);"
  );
  out.createTable = await client.executeStatement(
    "CREATE TABLE fastest AS SELECT id, MAX(speed) AS top FROM riders GROUP BY id;",
    { streamsProperties: EARLIEST }
  );
  out.inserts = [];
  for (const [id, name, speed] of [[1, "ann", 10.5], [2, "bo", 7.25], [1, "ann", 12.0]]) {
    out.inserts.push(await client.insertInto("RIDERS", { ID: id, NAME: name, SPEED: speed }));
  }

  // a push query from the beginning receives every row, each in its own callback
  const pushed = [];
  let pushMetadata;
  const push = await client.streamQuery(
    "SELECT * FROM riders EMIT CHANGES LIMIT 3;",
    (data) => {
      pushMetadata = data.metadata;
      if (data.rows) pushed.push(...data.rows);
    },
    { properties: EARLIEST }
  );
  out.push = { status: push.status, error: push.error, metadata: pushMetadata, rows: pushed };

  // a push query without a limit, ended by terminatePushQuery once its first row came
  let firstRow;
  let queryId;
  const open = client.streamQuery(
    "SELECT name FROM riders EMIT CHANGES;",
    (data) => {
      queryId = data.metadata && data.metadata.queryId;
      if (data.rows && data.rows.length && firstRow === undefined) firstRow = data.rows[0];
    },
    { properties: EARLIEST }
  );
  await poll(async () => firstRow, (row) => row !== undefined);
  out.terminate = await client.terminatePushQuery(queryId);
  const ended = await open;
  out.terminated = { status: ended.status, firstRow };

  out.pull = await poll(
    () => client.query("SELECT * FROM fastest WHERE id = 1;"),
    (result) => result.data && result.data.rows.length && result.data.rows[0].TOP === 12
  );
  out.streams = await client.listStreams();
  out.tables = await client.listTables();
  out.queries = await client.listQueries();
  out.describe = await client.describeSource("RIDERS");
  out.queryError = await client.query("SELECT * FROM nope;");
  out.statementError = await client.executeStatement("DROP STREAM nope;");
  await client.disconnect();
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
