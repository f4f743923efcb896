"""State stores: a query's keyed state in memory, with every change written to a compacted
changelog topic in the same transaction as the query's output and offsets. At start-up the
store is rebuilt from its changelog, so state, offsets and output always agree."""
from __future__ import annotations

import pickle

from ksql.runtime.log import make_records


class StateStore:
    def __init__(self, log=None, topic: str | None = None):
        self.log = log
        self.topic = topic  # None: the state lives only as long as the query (transient queries)
        self.data: dict = {}
        self._dirty: set = set()

    def get(self, key, default=None):
        return self.data.get(key, default)

    def put(self, key, value) -> None:
        self.data[key] = value
        self._dirty.add(key)

    def delete(self, key) -> None:
        self.data.pop(key, None)
        self._dirty.add(key)

    def items(self):
        return self.data.items()

    def restore(self) -> None:
        """Rebuild the state from the changelog (the newest record of each key wins)."""
        if self.topic is None or self.log.topic(self.topic) is None:
            return
        offset = 0
        while True:
            batch, offset = self.log.read(self.topic, 0, offset)
            if batch is None:
                break
            for key, value in zip(batch.column(2).to_pylist(), batch.column(3).to_pylist()):
                if value is None:
                    self.data.pop(pickle.loads(key), None)
                else:
                    self.data[pickle.loads(key)] = pickle.loads(value)
        self._dirty.clear()

    def flush(self, txn) -> None:
        """Write the changes since the last flush into the transaction."""
        if self.topic is None or not self._dirty:
            self._dirty.clear()
            return
        keys, values = [], []
        for key in self._dirty:
            keys.append(pickle.dumps(key))
            values.append(pickle.dumps(self.data[key]) if key in self.data else None)
        txn.append(self.topic, 0, make_records(keys, values, [0] * len(keys)))
        self._dirty.clear()


class _FrozenDict(tuple):
    """A dict (struct value) frozen into a hashable tuple of items."""


def freeze(value):
    """A hashable form of a key value: lists become tuples, dicts frozen item tuples."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return _FrozenDict((k, freeze(v)) for k, v in value.items())
    return value


def thaw(value):
    """The value `freeze` was given back (for building Arrow arrays)."""
    if isinstance(value, _FrozenDict):
        return {k: thaw(v) for k, v in value}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value
