package io.dynofleet.api;

/** One bad field of a request, named by its JSON path (e.g. {@code spec.template.dynoSize}). */
public record FieldError(String field, String message) {}
