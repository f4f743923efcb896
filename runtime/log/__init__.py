"""Where topics live: the embedded log on disk (embedded.py, each partition a file of
checksummed frames: partition_file.py) or a Kafka cluster (kafka.py), with Kafka's topic-name
rules (names.py) and partitioner (murmur2.py)."""
