"""Kafka's murmur2 partitioner, vectorized over a batch of keys.

Keys land in the same partition as a Java producer would put them:
`(murmur2(key) & 0x7fffffff) % partitions`.
"""
from __future__ import annotations

import numpy as np

_SEED = np.uint32(0x9747B28C)
_M = np.uint32(0x5BD1E995)


def murmur2(keys: list[bytes]) -> np.ndarray:
    """The 32-bit murmur2 hash of each key, as Kafka's `Utils.murmur2` computes it (unsigned)."""
    out = np.zeros(len(keys), dtype=np.uint32)
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    for length in np.unique(lengths):
        rows = np.nonzero(lengths == length)[0]
        data = np.frombuffer(b"".join(keys[i] for i in rows), dtype=np.uint8).reshape(len(rows), length)
        out[rows] = _hash_same_length(data, int(length))
    return out


def _hash_same_length(data: np.ndarray, length: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = np.full(data.shape[0], _SEED ^ np.uint32(length), dtype=np.uint32)
        whole = length // 4
        if whole:
            words = data[:, : whole * 4].copy().view("<u4").reshape(data.shape[0], whole)
            for i in range(whole):
                k = words[:, i] * _M
                k ^= k >> np.uint32(24)
                k *= _M
                h *= _M
                h ^= k
        tail = length % 4
        base = whole * 4
        if tail >= 3:
            h ^= data[:, base + 2].astype(np.uint32) << np.uint32(16)
        if tail >= 2:
            h ^= data[:, base + 1].astype(np.uint32) << np.uint32(8)
        if tail >= 1:
            h ^= data[:, base].astype(np.uint32)
            h *= _M
        h ^= h >> np.uint32(13)
        h *= _M
        h ^= h >> np.uint32(15)
    return h


def partitions_for(keys: list[bytes | None], partitions: int, start: int = 0) -> np.ndarray:
    """The partition of each key; keys that are None go round-robin from `start`."""
    result = np.zeros(len(keys), dtype=np.int32)
    if partitions == 1 or not keys:
        return result
    present = [i for i, k in enumerate(keys) if k is not None]
    if present:
        hashes = murmur2([keys[i] for i in present])
        result[present] = ((hashes & np.uint32(0x7FFFFFFF)) % np.uint32(partitions)).astype(np.int32)
    missing = [i for i, k in enumerate(keys) if k is None]
    if missing:
        result[missing] = (np.arange(len(missing)) + start) % partitions
    return result
