"""Names that reach the disk or a broker: Kafka's rules for topic names, and a file-name form
for the engine's own names (query ids) that can never leave the folder it is joined to."""
from __future__ import annotations

import re

from ksql.parser.errors import KsqlError

MAX_TOPIC_NAME_LENGTH = 249  # Kafka's limit: a partition's folder name adds a suffix to it
_LEGAL_TOPIC = re.compile(r"[a-zA-Z0-9._-]+")
_FILE_SAFE = re.compile(r"[A-Za-z0-9_-]")


class InvalidTopicName(KsqlError):
    pass


def topic_name_problem(name: str) -> str | None:
    """Why Kafka would refuse this topic name, in its words; None when it is a legal name."""
    if not isinstance(name, str) or name == "":
        return "the empty string is not allowed"
    if name == ".":
        return "'.' is not allowed"
    if name == "..":
        return "'..' is not allowed"
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        return f"the length of '{name}' is longer than the max allowed length {MAX_TOPIC_NAME_LENGTH}"
    if not _LEGAL_TOPIC.fullmatch(name):
        return f"'{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
    return None


def check_topic_name(name: str) -> str:
    """The name, if Kafka would accept it; else InvalidTopicName with Kafka's message."""
    problem = topic_name_problem(name)
    if problem is not None:
        raise InvalidTopicName(f"Topic name is invalid: {problem}")
    return name


def file_name(name: str) -> str:
    """A name as one file-name component: letters, digits, '_' and '-' kept, every other
    character written as %XX (so '.', '/' and '..' cannot appear)."""
    return "".join(c if _FILE_SAFE.match(c) else "".join(f"%{b:02X}" for b in c.encode()) for c in name) or "%"
