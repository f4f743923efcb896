"""Arrow helpers the function library and the runtime share."""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def broadcast(value, length: int, arrow_type: pa.DataType | None = None) -> pa.Array:
    """An array of `length` rows from an array or a scalar."""
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value
    if not value.is_valid:
        return pa.nulls(length, arrow_type or value.type)
    one = pa.array([value.as_py()], value.type)
    return one.take(pa.array(np.zeros(length, dtype=np.int64)))
