"""Deterministic Nexmark events: persons, auctions and bids in the standard proportions
(2 : 6 : 92 of every 100 events), one event per millisecond of event time, shaped as Nexmark's
reference generator shapes them: `dateTime` (and an auction's `expires`) as a timestamp string
`yyyy-MM-dd HH:mm:ss.SSS` (UTC), bids on hot auctions, by hot bidders and from hot channels
(Google, Facebook, Baidu, Apple, one fixed URL each) and otherwise on `channel-N` with its own
URL `https://www.nexmark.com/abc/de_f/ghi/item.htm?query=1`, mostly followed by
`&channel_id=...`, and an `extra` string filling each record to the generator's average size
(100 bytes for a bid, 200 for a person, 500 for an auction). The same seed always gives the
same events."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson

PERSON_SHARE, AUCTION_SHARE = 2, 6  # of every 100 events; the rest are bids
FIRST_PERSON, FIRST_AUCTION = 1000, 1000
CATEGORIES = 5
HOT_CHANNELS = ("Google", "Facebook", "Baidu", "Apple")
CHANNELS = 10_000  # the other channels: channel-0 .. channel-9999
HOT_CHANNEL_RATIO, HOT_AUCTION_RATIO, HOT_BIDDER_RATIO = 100, 2, 4  # 1 in N bids is not hot
IN_FLIGHT_AUCTIONS = 100  # a bid that is not on the hot auction goes to one of the latest ones
ACTIVE_PEOPLE = 1000  # and one not by the hot bidder comes from one of the latest persons
AVERAGE_SIZE = {"bid": 100, "person": 200, "auction": 500}  # bytes, `extra` included
CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle")
STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")
BASE_TIME = 1_700_000_000_000  # event time of the first event (ms)
TIME_FORMAT = "yyyy-MM-dd HH:mm:ss.SSS"  # dateTime's pattern, as TIMESTAMP_FORMAT spells it


@dataclass
class Events:
    """Each stream's records, ready for the log: keys, JSON values, timestamps."""
    persons: tuple[list, list, list]
    auctions: tuple[list, list, list]
    bids: tuple[list, list, list]


def generate(count: int, seed: int = 42, bids: bool = True) -> Events:
    """`count` events; without `bids`, only the persons and auctions among them (quicker to
    make, for runs that read no bids)."""
    rng = np.random.default_rng(seed)
    kinds = np.arange(count) % 100
    times = BASE_TIME + np.arange(count)
    person_at = times[kinds < PERSON_SHARE]
    auction_at = times[(kinds >= PERSON_SHARE) & (kinds < PERSON_SHARE + AUCTION_SHARE)]
    bid_at = times[kinds >= PERSON_SHARE + AUCTION_SHARE]
    letters = _Letters(rng)

    person_ids = FIRST_PERSON + np.arange(len(person_at))
    person_rows = []
    for i, t in zip(person_ids.tolist(), timestamps(person_at)):
        row = {"id": i, "name": f"person {i}", "emailAddress": f"p{i}@example.com", "creditCard": f"{i:016d}",
               "city": CITIES[i % len(CITIES)], "state": STATES[i % len(STATES)], "dateTime": t}
        fixed = 8 + sum(len(row[f]) for f in ("name", "emailAddress", "creditCard", "city", "state"))
        row["extra"] = letters.extra(fixed, AVERAGE_SIZE["person"])
        person_rows.append(_json(row))
    persons = ([int(i).to_bytes(8, "big", signed=True) for i in person_ids], person_rows, person_at.tolist())

    auction_ids = FIRST_AUCTION + np.arange(len(auction_at))
    sellers = FIRST_PERSON + rng.integers(0, max(len(person_ids), 1), len(auction_at))
    categories = rng.integers(10, 10 + CATEGORIES, len(auction_at))
    initial = rng.integers(1, 1000, len(auction_at))
    auction_rows = []
    for i, b, t, expires, s, c in zip(auction_ids.tolist(), initial.tolist(), timestamps(auction_at),
                                      timestamps(auction_at + 10_000), sellers.tolist(), categories.tolist()):
        row = {"id": i, "itemName": f"item {i}", "description": "", "initialBid": b, "reserve": b * 2,
               "dateTime": t, "expires": expires, "seller": s, "category": c}
        row["extra"] = letters.extra(8 + len(row["itemName"]) + 8 * 5, AVERAGE_SIZE["auction"])
        auction_rows.append(_json(row))
    auctions = ([int(i).to_bytes(8, "big", signed=True) for i in auction_ids], auction_rows, auction_at.tolist())

    if not bids:
        return Events(persons, auctions, ([], [], []))
    # the latest auction and person when each bid is made: the hot ones are the latest round hundred
    latest_auction = np.maximum(np.searchsorted(auction_at, bid_at) - 1, 0)
    latest_person = np.maximum(np.searchsorted(person_at, bid_at) - 1, 0)
    hot_auction = rng.integers(0, HOT_AUCTION_RATIO, len(bid_at)) > 0
    recent = np.maximum(latest_auction - rng.integers(0, IN_FLIGHT_AUCTIONS, len(bid_at)), 0)
    auction_of = FIRST_AUCTION + np.where(hot_auction, latest_auction // 100 * 100, recent)
    hot_bidder = rng.integers(0, HOT_BIDDER_RATIO, len(bid_at)) > 0
    active = np.maximum(latest_person - rng.integers(0, ACTIVE_PEOPLE, len(bid_at)), 0)
    bidders = FIRST_PERSON + np.where(hot_bidder, latest_person // 100 * 100 + 1, active)
    prices = np.round(10 ** (rng.random(len(bid_at)) * 6) * 100).astype(np.int64)  # cents, spread over 6 decades
    hot_channel = rng.integers(0, HOT_CHANNEL_RATIO, len(bid_at)) > 0
    channel_numbers = np.where(hot_channel, -1 - rng.integers(0, len(HOT_CHANNELS), len(bid_at)),
                               rng.integers(0, CHANNELS, len(bid_at)))
    urls = _ChannelUrls(rng, letters)
    bid_rows = []
    for a, b, p, n, t in zip(auction_of.tolist(), bidders.tolist(), prices.tolist(), channel_numbers.tolist(),
                             timestamps(bid_at)):
        channel, url = urls.of(n)
        bid_rows.append(_json({"auction": a, "bidder": b, "price": p, "channel": channel, "url": url,
                                      "dateTime": t, "extra": letters.extra(32, AVERAGE_SIZE["bid"])}))
    bids = ([int(a).to_bytes(8, "big", signed=True) for a in auction_of], bid_rows, bid_at.tolist())
    return Events(persons, auctions, bids)


def _json(row: dict) -> bytes:
    """The row as JSON, in a bytes object of its own size (orjson's result keeps the 4 KiB it
    was written in: 2M of them took 8 GB)."""
    return bytes(memoryview(orjson.dumps(row)))


def timestamps(millis: np.ndarray) -> list[str]:
    """Epoch milliseconds as `yyyy-MM-dd HH:mm:ss.SSS` (UTC)."""
    texts = np.datetime_as_string(millis.astype("datetime64[ms]"), unit="ms")
    return [text.replace("T", " ") for text in texts.tolist()]


class _Letters:
    """Random lower-case strings, as the reference generator makes them (a space in one
    character of 13, or an underscore in URL parts), cut from one random block."""

    def __init__(self, rng: np.random.Generator, size: int = 1 << 20):
        codes = rng.integers(ord("a"), ord("z") + 1, size).astype(np.uint8)
        codes[rng.integers(0, 13, size) == 0] = ord(" ")
        self.block = codes.tobytes().decode()
        self.rng = rng
        self.at = 0

    def take(self, length: int) -> str:
        if self.at + length > len(self.block):
            self.at = 0
        text = self.block[self.at:self.at + length]
        self.at += length
        return text

    def extra(self, fixed: int, average: int) -> str:
        """What fills a record of `fixed` bytes to `average` bytes on average (within 20 %)."""
        wanted = average - fixed
        if wanted <= 0:
            return ""
        delta = round(wanted * 0.2)
        return self.take(wanted - delta + (int(self.rng.integers(0, 2 * delta)) if delta else 0))

    def url_part(self) -> str:
        return self.take(3 + int(self.rng.integers(0, 2))).replace(" ", "_")


class _ChannelUrls:
    """Each channel's name and URL: the hot channels' (numbered -1 to -4) and channel-N's, made
    once per channel, most with `&channel_id=` and N's bits reversed."""

    def __init__(self, rng: np.random.Generator, letters: _Letters):
        self.rng = rng
        self.letters = letters
        self.known = {-1 - i: (name, self._base()) for i, name in enumerate(HOT_CHANNELS)}

    def _base(self) -> str:
        parts = "/".join(self.letters.url_part() for _ in range(3))
        return f"https://www.nexmark.com/{parts}/item.htm?query=1"

    def of(self, number: int) -> tuple[str, str]:
        found = self.known.get(number)
        if found is None:
            url = self._base()
            if self.rng.integers(0, 10) > 0:
                url += f"&channel_id={abs(_reverse_bits(number))}"
            found = self.known[number] = (f"channel-{number}", url)
        return found


def _reverse_bits(number: int) -> int:
    """Java's Integer.reverse: the 32 bits in the opposite order, as a signed int."""
    reversed_ = int(f"{number & 0xFFFFFFFF:032b}"[::-1], 2)
    return reversed_ - (1 << 32) if reversed_ >= 1 << 31 else reversed_
