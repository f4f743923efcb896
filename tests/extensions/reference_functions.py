"""Functions written as reference/user-defined-functions.md describes them, in Python:
metadata for DESCRIBE FUNCTION and SHOW FUNCTIONS, settings passed to configure(), NULL
handling, and an aggregate whose state is not its result and whose sessions merge."""
from ksql.udf import udaf, udf


@udf("GREETING", returns="STRING", params=["STRING"], description="A greeting for a name.", author="Ann Example",
     version="1.2.0", category="STRINGS")
class Greeting:
    """Configured from the server's settings: only ksql.functions.greeting.* and
    ksql.functions._global_.* reach it."""

    def __init__(self):
        self.settings = {}

    def configure(self, settings):
        self.settings = dict(settings)

    def __call__(self, name):
        prefix = self.settings.get("ksql.functions.greeting.prefix", "Hi ")
        suffix = self.settings.get("ksql.functions._global_.suffix", "")
        return f"{prefix}{name}{suffix}"


@udf("SETTINGS_SEEN", returns="ARRAY<STRING>", params=[], description="The settings GREETING was given.")
def settings_seen():
    from ksql.udf import _CONFIGURABLE

    return sorted(_CONFIGURABLE["GREETING"][-1].settings)


@udf("NULL_AS_WORD", returns="STRING", params=["STRING"], null_safe=False, description="Takes NULL itself.")
def null_as_word(value):
    return "none" if value is None else value


@udaf("MEAN_OF", returns="DOUBLE", params=["BIGINT"], description="The mean, kept as (sum, count).",
      author="Ann Example", version="0.1")
class MeanOf:
    def init(self):
        return [0, 0]

    def add(self, state, value):
        return state if value is None else [state[0] + value, state[1] + 1]

    def merge(self, one, other):  # two sessions that a record joins become one
        return [one[0] + other[0], one[1] + other[1]]

    def result(self, state):
        return None if state[1] == 0 else state[0] / state[1]
