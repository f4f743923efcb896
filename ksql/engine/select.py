"""SELECT statements (a push query with EMIT CHANGES, else a pull query) and PRINT."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone


from ksql.errors import KsqlStatementError
from ksql.parser import (ast)
from ksql.planner import pull_rules
from ksql.planner.aggregation import limit_collections
from ksql.planner.plan import plan_query
from ksql.results import RowStream
from ksql.planner.pull_sql import needs_sql
from ksql.planner.schema import ROWOFFSET, ROWPARTITION
from ksql.planner.tree import walk
from ksql.runtime.query import TransientQuery
from ksql.engine.print_formats import FormatsLines
from ksql.engine.session import Session


def _print_line(timestamp: int, key: str, value: str, partition: int) -> str:
    moment = datetime.fromtimestamp(timestamp / 1000, tz=timezone.utc)
    stamp = moment.strftime("%Y/%m/%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} Z"
    return f"rowtime: {stamp}, key: {key}, value: {value}, partition: {partition}"


class SelectStatements:
    """SELECT and PRINT, as part of KsqlEngine (a mixin)."""

    def _check_limit(self, query: ast.Query, session: Session) -> None:
        merged = {**self.properties, **session.properties}
        if query.emit is None and query.limit is not None and \
                str(merged.get("ksql.query.pull.limit.clause.enabled", "true")).lower() == "false":
            raise KsqlStatementError(
                "LIMIT clause in pull queries is currently disabled. You can enable them by setting "
                "ksql.query.pull.limit.clause.enabled=true. See https://cnfl.io/queries for more info.\n"
                "Add EMIT CHANGES if you intended to issue a push query.")
        if query.limit is not None and query.limit < 0:
            raise KsqlStatementError("Pull queries don't support negative integers in the LIMIT clause. "
                                     "See https://cnfl.io/queries for more info." if query.emit is None else
                                     "Push queries don't support negative integers in the LIMIT clause.")

    def _exec_QueryStatement(self, stmt: ast.QueryStatement, text: str, session: Session):
        query = stmt.query
        if query.emit is None:
            self._catch_up([query.source.name] + [j.relation.name for j in query.joins])
            pull_rules.check_any(query, self.metastore.get(query.source.name),
                                 [self.metastore.get(j.relation.name) for j in query.joins])
        if query.emit is None and needs_sql(query):
            tables = self._pull_tables(query)
            if tables is not None:
                try:
                    return self._sql_pull_query(text, query, tables)
                except KsqlStatementError as error:
                    if query.group_by is None:
                        raise
                    # past ksqlDB (which refuses every GROUP BY here), but not this one
                    raise KsqlStatementError(f"Pull queries don't support GROUP BY clauses that select "
                                             f"ungrouped columns: {error}") from None
        self._check_limit(query, session)
        target = self.metastore.get(query.source.name)
        if query.emit is None and not query.joins and target is not None and target.is_table:
            pull_rules.check(query, target, {**self.properties, **session.properties})
        if query.emit is None and target is not None and target.is_table:
            answered = self._direct_pull_query(text, query, target)
            if answered is not None:
                return answered
        if query.order_by:
            raise KsqlStatementError("ORDER BY is only supported in pull queries on tables "
                                     "(queries without EMIT CHANGES).")
        plan = limit_collections(plan_query(query, self.metastore), self.properties)
        source = plan.source.source
        push = query.emit is not None
        if not push and source.is_table:
            return self._pull_query(text, query, plan)
        if query.emit == "FINAL":
            raise KsqlStatementError("EMIT FINAL is only supported for windowed aggregations.")
        scalable = push and self._scalable_push(query, session)
        query_id = f"{'SCALABLE_PUSH_QUERY' if scalable else 'transient'}_{source.name}_{uuid.uuid4().int % 10**19}"
        offset_reset = session.offset_reset(self.properties)
        transient = TransientQuery(query_id, plan, self.log, offset_reset, push, on_log=self._log_entries,
                                   state_limits=self._state_limits(query_id), skip_nulls=scalable)
        columns = [c for c, _ in plan.steps[-1].columns]
        return RowStream(text, query_id, [c.name for c in columns], [str(c.type) for c in columns],
                         transient.rows, transient.close, limit=query.limit, poll=transient.poll, push=push)

    def _scalable_push(self, query: ast.Query, session: Session) -> bool:
        """Whether ksqlDB runs this push query as a scalable (v2) one, with
        ksql.query.push.v2.enabled: over the sink of exactly one persistent query, from the latest
        offset, without joins, GROUP BY, windows, HAVING, PARTITION BY, ROWPARTITION or ROWOFFSET
        (server-configuration.md; the rules as ksqlDB's ScalablePushUtil writes them)."""
        merged = {**self.properties, **session.properties}
        if str(merged.get("ksql.query.push.v2.enabled", "false")).lower() != "true":
            return False
        if query.emit != "CHANGES" or query.joins or query.group_by is not None or query.window is not None \
                or query.having is not None or query.partition_by or session.offset_reset(self.properties) != "latest":
            return False
        writers = [q for q in self.queries.values() if q.sink.name == query.source.name]
        if len(writers) != 1:
            return False
        named = []
        for part in [query.where] + [getattr(item, "expression", None) for item in query.select]:
            if part is not None:
                walk(part, lambda node: named.append(node.name) if isinstance(node, ast.ColumnRef) else None)
        return not {ROWPARTITION, ROWOFFSET} & set(named)

    def _exec_Print(self, stmt: ast.Print, text: str, session: Session):
        topic = self.log.topic(stmt.topic)
        if topic is None:
            topic = next((t for t in self.log.topics() if t.name.upper() == stmt.topic.upper()), None)
        if topic is None:
            raise KsqlStatementError(f"Could not find topic '{stmt.topic}', or the KSQL user does not have "
                                     f"permissions to list the topic. Topic names are case-sensitive.")
        closed = threading.Event()
        log = self.log
        from_beginning = stmt.from_beginning or session.offset_reset(self.properties) == "earliest"

        def lines():
            positions = {p: (log.start_offset(topic.name, p) if from_beginning else log.end_offset(topic.name, p))
                         for p in range(topic.partitions)}
            printed, seen = 0, 0
            formats = FormatsLines()
            interval = stmt.interval or 1
            while not closed.is_set():
                progressed = False
                for p in positions:
                    batch, next_offset = log.read(topic.name, p, positions[p])
                    positions[p] = next_offset
                    if batch is None:
                        continue
                    progressed = True
                    out = []
                    for ts, key, value in zip(batch.column(1).to_pylist(), batch.column(2).to_pylist(),
                                              batch.column(3).to_pylist()):
                        seen += 1
                        if (seen - 1) % interval:
                            continue
                        out.append(_print_line(ts, formats.keys.show(key), formats.values.show(value), p))
                        printed += 1
                        if stmt.limit is not None and printed >= stmt.limit:
                            break
                    # the formats that could still be the topic's, when that changed, then the records
                    yield from formats.changed()
                    yield from out
                    if stmt.limit is not None and printed >= stmt.limit:
                        return
                if not progressed:
                    log.wait(0.2)

        return RowStream(text, f"print_{topic.name}", [], [], lines, closed.set, is_print=True)
