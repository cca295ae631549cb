package io.dynofleet.pool.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.quarkus.hibernate.orm.JsonFormat;
import io.quarkus.hibernate.orm.PersistenceUnitExtension;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.type.descriptor.WrapperOptions;
import org.hibernate.type.descriptor.java.JavaType;
import org.hibernate.type.format.FormatMapper;
import org.hibernate.type.format.jackson.JacksonJsonFormatMapper;

/**
 * The JSON mapping of jsonb columns, separate from the REST layer's: the API is strict about
 * unknown fields, but stored documents must stay readable when a later version drops a field.
 */
@JsonFormat
@PersistenceUnitExtension
@ApplicationScoped
class JsonColumnMapper implements FormatMapper {
  private final FormatMapper delegate =
      new JacksonJsonFormatMapper(
          new ObjectMapper()
              .registerModule(new JavaTimeModule())
              .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
              .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
              .setSerializationInclusion(JsonInclude.Include.NON_NULL));

  @Override
  public <T> T fromString(CharSequence charSequence, JavaType<T> javaType, WrapperOptions options) {
    return delegate.fromString(charSequence, javaType, options);
  }

  @Override
  public <T> String toString(T value, JavaType<T> javaType, WrapperOptions options) {
    return delegate.toString(value, javaType, options);
  }
}
