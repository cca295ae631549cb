package io.dynofleet.pool.model;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * One BackendPool row. {@code resourceVersion} is the JPA version, so every write through Hibernate
 * is a compare-and-set and concurrent writers cannot lose an update; the reconciler's status writes
 * bump it with a bulk update ({@link PoolRepository#writeStatus}).
 */
@Entity
@Table(name = "pools")
public class Pool extends PanacheEntityBase {
  @Id public UUID id;

  @Column(nullable = false, unique = true)
  public String name;

  @Column(nullable = false)
  public long generation;

  @Version
  @Column(name = "resource_version", nullable = false)
  public long resourceVersion;

  @JdbcTypeCode(SqlTypes.JSON)
  @Column(nullable = false)
  public Map<String, String> labels;

  @JdbcTypeCode(SqlTypes.JSON)
  @Column(nullable = false)
  public PoolSpec spec;

  @JdbcTypeCode(SqlTypes.JSON)
  public PoolStatus status;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  @Column(name = "updated_at", nullable = false)
  public Instant updatedAt;

  @Column(name = "deletion_timestamp")
  public Instant deletionTimestamp;

  public boolean terminating() {
    return deletionTimestamp != null;
  }
}
