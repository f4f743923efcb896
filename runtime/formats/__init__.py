"""How keys and values are written as bytes: the plain formats (serdes.py: KAFKA, JSON,
DELIMITED, NONE), the schema-registry formats (avro.py, json_sr.py, protobuf.py) and their
registry (schema_registry.py); make.py picks one for a source's key or value."""
