"""Deterministic Nexmark events: persons, auctions and bids in the standard proportions
(2 : 6 : 92 of every 100 events), one event per millisecond of event time, with Nexmark's
field layout. The same seed always gives the same events."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson

PERSON_SHARE, AUCTION_SHARE = 2, 6  # of every 100 events; the rest are bids
FIRST_PERSON, FIRST_AUCTION = 1000, 1000
CATEGORIES = 5
CHANNELS = ("Google", "Facebook", "Baidu", "Apple")
CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle")
STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")
BASE_TIME = 1_700_000_000_000  # event time of the first event (ms)


@dataclass
class Events:
    """Each stream's records, ready for the log: keys, JSON values, timestamps."""
    persons: tuple[list, list, list]
    auctions: tuple[list, list, list]
    bids: tuple[list, list, list]


def generate(count: int, seed: int = 42) -> Events:
    rng = np.random.default_rng(seed)
    kinds = np.arange(count) % 100
    times = BASE_TIME + np.arange(count)
    person_at = times[kinds < PERSON_SHARE]
    auction_at = times[(kinds >= PERSON_SHARE) & (kinds < PERSON_SHARE + AUCTION_SHARE)]
    bid_at = times[kinds >= PERSON_SHARE + AUCTION_SHARE]

    person_ids = FIRST_PERSON + np.arange(len(person_at))
    persons = ([int(i).to_bytes(8, "big", signed=True) for i in person_ids],
               [orjson.dumps({"id": int(i), "name": f"person {i}", "emailAddress": f"p{i}@example.com",
                              "creditCard": f"{i:016d}", "city": CITIES[i % len(CITIES)],
                              "state": STATES[i % len(STATES)], "dateTime": int(t), "extra": ""})
                for i, t in zip(person_ids.tolist(), person_at.tolist())],
               person_at.tolist())

    auction_ids = FIRST_AUCTION + np.arange(len(auction_at))
    sellers = FIRST_PERSON + rng.integers(0, max(len(person_ids), 1), len(auction_at))
    categories = rng.integers(10, 10 + CATEGORIES, len(auction_at))
    initial = rng.integers(1, 1000, len(auction_at))
    auctions = ([int(i).to_bytes(8, "big", signed=True) for i in auction_ids],
                [orjson.dumps({"id": int(i), "itemName": f"item {i}", "description": "", "initialBid": int(b),
                               "reserve": int(b) * 2, "dateTime": int(t), "expires": int(t) + 10_000,
                               "seller": int(s), "category": int(c), "extra": ""})
                 for i, b, t, s, c in zip(auction_ids.tolist(), initial.tolist(), auction_at.tolist(),
                                          sellers.tolist(), categories.tolist())],
                auction_at.tolist())

    # bids go mostly to recent ("hot") auctions, as Nexmark's generator does
    recent = np.maximum(np.searchsorted(auction_at, bid_at), 1)
    hot = rng.random(len(bid_at)) < 0.9
    offset = np.where(hot, rng.integers(0, 10, len(bid_at)), rng.integers(0, 1000, len(bid_at)))
    auction_of = FIRST_AUCTION + np.maximum(recent - 1 - offset, 0)
    bidders = FIRST_PERSON + rng.integers(0, max(len(person_ids), 1), len(bid_at))
    prices = rng.integers(1, 100_000, len(bid_at))
    channels = rng.integers(0, len(CHANNELS), len(bid_at))
    bids = ([int(a).to_bytes(8, "big", signed=True) for a in auction_of],
            [orjson.dumps({"auction": int(a), "bidder": int(b), "price": int(p),
                           "channel": CHANNELS[c], "url": f"https://nexmark.example/{a}/{b}",
                           "dateTime": int(t), "extra": ""})
             for a, b, p, c, t in zip(auction_of.tolist(), bidders.tolist(), prices.tolist(), channels.tolist(),
                                      bid_at.tolist())],
            bid_at.tolist())
    return Events(persons, auctions, bids)
