package io.dynofleet.pool.model;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/** One entry of a pool's bounded event log; repeats of the same event bump {@code count}. */
@Entity
@Table(name = "pool_events")
public class PoolEvent extends PanacheEntityBase {
  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  public Long id;

  @Column(name = "pool_id", nullable = false)
  public UUID poolId;

  @Column(nullable = false)
  public String type;

  @Column(nullable = false)
  public String reason;

  @Column(nullable = false)
  public String message;

  @Column(nullable = false)
  public int count;

  @Column(name = "first_seen", nullable = false)
  public Instant firstSeen;

  @Column(name = "last_seen", nullable = false)
  public Instant lastSeen;

  /**
   * When the standing cause of a said-once event was found gone ({@link PoolEvents#cleared}); null
   * while it stands. Not shown in the API.
   */
  @Column(name = "cleared_at")
  public Instant clearedAt;
}
