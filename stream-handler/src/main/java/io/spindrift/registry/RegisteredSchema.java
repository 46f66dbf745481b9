package io.spindrift.registry;

/** A schema as a registry serves it: its text (Avro JSON, Protobuf source) and format ({@code AVRO}, {@code PROTOBUF}). */
record RegisteredSchema(String text, String format) {}
