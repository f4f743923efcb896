package ksql.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.storage.Converter;

/**
 * Writes each record as a zero byte, the id of its Avro schema and the Avro binary encoding (the
 * schema registry's wire format), the schema derived from the record's Connect schema as
 * Confluent's AvroConverter derives it and registered under {@code <topic>-key} or
 * {@code <topic>-value} at {@code schema.registry.url}. Setting: {@code schema.registry.url}.
 */
public final class AvroConverter implements Converter {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<org.apache.kafka.connect.data.Schema, Map<String, Registered>> known = new IdentityHashMap<>();
  private String registry;
  private boolean isKey;

  private record Registered(int id, Schema schema) {}

  @Override
  public void configure(final Map<String, ?> configs, final boolean isKey) {
    final Object url = configs.get("schema.registry.url");
    if (url == null) {
      throw new DataException("Missing required configuration \"schema.registry.url\" which has no default value.");
    }
    this.registry = url.toString().split(",")[0].replaceAll("/+$", "");
    this.isKey = isKey;
  }

  @Override
  public byte[] fromConnectData(final String topic, final org.apache.kafka.connect.data.Schema schema,
                                final Object value) {
    if (value == null) {
      return null;
    }
    final Registered registered = register(topic, schema);
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(registered.id()).array());
    try {
      final BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<Object>(registered.schema()).write(avroValue(registered.schema(), value), encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new DataException("Could not write the record as Avro", e);
    }
    return out.toByteArray();
  }

  @Override
  public SchemaAndValue toConnectData(final String topic, final byte[] value) {
    throw new DataException("This converter writes Avro; it does not read it");
  }

  private synchronized Registered register(final String topic, final org.apache.kafka.connect.data.Schema schema) {
    final Map<String, Registered> byTopic = known.computeIfAbsent(schema, s -> new HashMap<>());
    Registered registered = byTopic.get(topic);
    if (registered == null) {
      final Schema avro = avroSchema(schema, new HashMap<>(), "ConnectDefault");
      final String subject = topic + (isKey ? "-key" : "-value");
      try {
        final String body = JSON.writeValueAsString(Map.of("schema", avro.toString()));
        final HttpResponse<String> response = http.send(
            HttpRequest.newBuilder(URI.create(registry + "/subjects/" + subject + "/versions"))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
          throw new DataException("The schema registry refused the schema of " + subject + ": " + response.body());
        }
        final JsonNode answer = JSON.readTree(response.body());
        registered = new Registered(answer.get("id").asInt(), avro);
      } catch (IOException | InterruptedException e) {
        throw new DataException("Could not register the schema of " + subject + " at " + registry, e);
      }
      byTopic.put(topic, registered);
    }
    return registered;
  }

  /** Confluent's mapping: a struct is a record (a name met before is that record again), an
   *  optional schema a union with null that defaults to null. Avro names: letters, digits, _. */
  static Schema avroSchema(final org.apache.kafka.connect.data.Schema schema, final Map<String, Schema> named,
                           final String defaultName) {
    final Schema plain = switch (schema.type()) {
      case INT8, INT16, INT32 -> Schema.create(Schema.Type.INT);
      case INT64 -> Schema.create(Schema.Type.LONG);
      case FLOAT32 -> Schema.create(Schema.Type.FLOAT);
      case FLOAT64 -> Schema.create(Schema.Type.DOUBLE);
      case BOOLEAN -> Schema.create(Schema.Type.BOOLEAN);
      case STRING -> Schema.create(Schema.Type.STRING);
      case BYTES -> Schema.create(Schema.Type.BYTES);
      case ARRAY -> Schema.createArray(avroSchema(schema.valueSchema(), named, defaultName));
      case MAP -> Schema.createMap(avroSchema(schema.valueSchema(), named, defaultName));
      case STRUCT -> record(schema, named, defaultName);
    };
    return schema.isOptional() ? Schema.createUnion(Schema.create(Schema.Type.NULL), plain) : plain;
  }

  private static Schema record(final org.apache.kafka.connect.data.Schema schema, final Map<String, Schema> named,
                               final String defaultName) {
    final String full = (schema.name() == null ? defaultName : schema.name()).replaceAll("[^A-Za-z0-9_.]", "_");
    final Schema seen = named.get(full);
    if (seen != null) {
      return seen;
    }
    final int dot = full.lastIndexOf('.');
    final Schema record = Schema.createRecord(full.substring(dot + 1), null, dot < 0 ? null : full.substring(0, dot),
                                              false);
    named.put(full, record);
    final List<Schema.Field> fields = new ArrayList<>();
    for (final Field field : schema.fields()) {
      final Schema type = avroSchema(field.schema(), named, full + "_" + field.name());
      fields.add(new Schema.Field(field.name(), type, null,
                                  field.schema().isOptional() ? Schema.Field.NULL_DEFAULT_VALUE : null));
    }
    record.setFields(fields);
    return record;
  }

  private static Object avroValue(final Schema schema, final Object value) {
    if (value == null) {
      return null;
    }
    final Schema type = schema.getType() == Schema.Type.UNION ? schema.getTypes().get(1) : schema;
    switch (type.getType()) {
      case RECORD: {
        final Struct struct = (Struct) value;
        final GenericData.Record record = new GenericData.Record(type);
        for (final Schema.Field field : type.getFields()) {
          record.put(field.name(), avroValue(field.schema(), struct.get(field.name())));
        }
        return record;
      }
      case ARRAY: {
        final List<Object> out = new ArrayList<>();
        for (final Object item : (List<?>) value) {
          out.add(avroValue(type.getElementType(), item));
        }
        return out;
      }
      case MAP: {
        final Map<String, Object> out = new HashMap<>();
        for (final Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
          out.put(String.valueOf(entry.getKey()), avroValue(type.getValueType(), entry.getValue()));
        }
        return out;
      }
      case INT:
        return ((Number) value).intValue();
      case BYTES:
        return value instanceof byte[] bytes ? ByteBuffer.wrap(bytes) : value;
      default:
        return value;
    }
  }
}
