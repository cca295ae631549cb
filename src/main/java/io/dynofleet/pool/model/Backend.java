package io.dynofleet.pool.model;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A backend app of a managed pool: the reconciler's record of intent and progress. Written before
 * the app exists, so a crash never leaves an app Dynofleet does not know it owns.
 */
@Entity
@Table(name = "backends")
public class Backend extends PanacheEntityBase {

  /** How far the making of the app got; each step is idempotent and resumable. */
  public enum Step {
    INTENDED,
    CREATED,
    CONFIGURED,
    RELEASING,
    SCALED,
    COUPLED,
    READY,
    DRAINING,
    DELETING
  }

  /** The phase shown in status (DESIGN.md). */
  public enum Phase {
    Creating,
    Releasing,
    Ready,
    Unhealthy,
    Draining,
    Deleting,
    Failed
  }

  @Id public UUID id;

  @Column(name = "pool_id", nullable = false)
  public UUID poolId;

  @Column(name = "app_name", nullable = false, unique = true)
  public String appName;

  @Column(name = "app_id")
  public String appId;

  @Column(name = "web_url")
  public String webUrl;

  @Enumerated(EnumType.STRING)
  @Column(nullable = false)
  public Step step;

  @Enumerated(EnumType.STRING)
  @Column(nullable = false)
  public Phase phase;

  /** The source release and config this backend is made from ("release-id/config-hash"). */
  @Column(nullable = false)
  public String target;

  @Column(name = "release_id")
  public String releaseId;

  @Column(name = "release_version")
  public Integer releaseVersion;

  /** The source app's Heroku id, set when its release is claimed (pools may name it either way). */
  @Column(name = "source_app_id")
  public String sourceAppId;

  /**
   * When a POST whose answer never came, or was a 5xx, was sent for this backend (its app's create,
   * or its release while {@code releaseId} is the mark {@code sent}): Heroku may still carry it out
   * for a while. Null when nothing is on its way.
   */
  @Column(name = "sent_at")
  public Instant sentAt;

  @Column(name = "coupling_id")
  public String couplingId;

  @Column(nullable = false)
  public int failures;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  @Column(name = "updated_at", nullable = false)
  public Instant updatedAt;

  @Column(name = "ready_at")
  public Instant readyAt;

  @Column(name = "unhealthy_since")
  public Instant unhealthySince;

  @Column(name = "restarted_at")
  public Instant restartedAt;

  public String message;

  /**
   * When any dyno last compared the backend's config vars and web dynos with the desired ones (the
   * drift check); null: never (its {@code readyAt} counts instead).
   */
  @Column(name = "drift_checked_at")
  public Instant driftCheckedAt;

  /**
   * The proxy secret this backend's app was given as {@code DYNOFLEET_PROXY_SECRET} at its config
   * step: the one the proxy sends it, also after the pool's secret was rotated (the app holds this
   * one until it is replaced). Null before the config step, and for an app configured by a dyno of
   * the release before (the proxy sends the pool's secret then). Never in a status, an event or a
   * log line.
   */
  @Column(name = "proxy_secret")
  public String proxySecret;

  /**
   * When {@code BackendEjected} was last told for this backend (the reconciler's clock): once per
   * replace window for the fleet, whichever dyno passes the pool. Null: not told.
   */
  @Column(name = "ejection_told_at")
  public Instant ejectionToldAt;

  public static List<Backend> ofPool(UUID poolId) {
    return list("poolId = ?1 order by createdAt, appName", poolId);
  }

  /** Leaving the pool: being drained or deleted. */
  public boolean leaving() {
    return step == Step.DRAINING || step == Step.DELETING;
  }
}
