package io.dynofleet.pool.model;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Queries over {@link Pool}. Callers own the transaction. */
@ApplicationScoped
public class PoolRepository implements PanacheRepositoryBase<Pool, UUID> {

  /**
   * One requirement of a label selector: {@code key=value}, {@code key!=value}, {@code key}, {@code
   * !key}.
   */
  public record LabelRequirement(String key, Op op, String value) {
    public enum Op {
      EQUALS,
      NOT_EQUALS,
      EXISTS,
      NOT_EXISTS
    }
  }

  public Optional<Pool> findByName(String name) {
    if (name == null || name.length() > 63 || name.indexOf('\0') >= 0) {
      // no pool has such a name, and PostgreSQL refuses a NUL in text (a 500)
      return Optional.empty();
    }
    return find("name", name).firstResultOptional();
  }

  /**
   * A page of pools ordered by name, strictly after {@code after} (the continue token), filtered by
   * a label selector evaluated in PostgreSQL on the jsonb labels.
   */
  @SuppressWarnings("unchecked")
  public List<Pool> page(List<LabelRequirement> selector, String after, int limit) {
    return pageQuery("*", Pool.class, selector, after, limit).getResultList();
  }

  /** A pool's identity and version, as a page lists them. */
  public record Version(UUID id, long resourceVersion, String name) {}

  /**
   * The same page as {@link #page}, each pool's id, version and name only: what a list's ETag is
   * made of, without reading and serialising the documents.
   */
  public List<Version> versions(List<LabelRequirement> selector, String after, int limit) {
    List<?> rows =
        pageQuery("id, resource_version, name", null, selector, after, limit).getResultList();
    List<Version> out = new ArrayList<>(rows.size());
    for (Object row : rows) {
      Object[] r = (Object[]) row;
      UUID id = r[0] instanceof UUID u ? u : UUID.fromString(r[0].toString());
      out.add(new Version(id, ((Number) r[1]).longValue(), (String) r[2]));
    }
    return out;
  }

  private jakarta.persistence.Query pageQuery(
      String columns, Class<?> type, List<LabelRequirement> selector, String after, int limit) {
    StringBuilder sql = new StringBuilder("select " + columns + " from pools where 1=1");
    List<Object> params = new ArrayList<>();
    if (after != null) {
      params.add(after);
      sql.append(" and name > ?").append(params.size());
    }
    for (LabelRequirement r : selector) {
      switch (r.op()) {
        case EQUALS -> {
          params.add(r.key());
          params.add(r.value());
          sql.append(" and labels ->> ?")
              .append(params.size() - 1)
              .append(" = ?")
              .append(params.size());
        }
        case NOT_EQUALS -> {
          params.add(r.key());
          params.add(r.value());
          sql.append(" and (labels ->> ?")
              .append(params.size() - 1)
              .append(") is distinct from ?")
              .append(params.size());
        }
        case EXISTS -> {
          params.add(r.key());
          sql.append(" and jsonb_exists(labels, ?").append(params.size()).append(")");
        }
        case NOT_EXISTS -> {
          params.add(r.key());
          sql.append(" and not jsonb_exists(labels, ?").append(params.size()).append(")");
        }
      }
    }
    sql.append(" order by name limit ").append(limit);
    var query =
        type == null
            ? getEntityManager().createNativeQuery(sql.toString())
            : getEntityManager().createNativeQuery(sql.toString(), type);
    for (int i = 0; i < params.size(); i++) {
      query.setParameter(i + 1, params.get(i));
    }
    return query;
  }

  /** Names of every pool whose template copies one of {@code apps} (names or ids), by name. */
  @SuppressWarnings("unchecked")
  public List<String> namesCopying(List<String> apps) {
    if (apps.isEmpty()) return List.of();
    return getEntityManager()
        .createNativeQuery(
            "select name from pools where spec -> 'template' ->> 'sourceApp' = any(cast(?1 as text[]))"
                + " order by name")
        .setParameter(1, apps.toArray(String[]::new))
        .getResultList();
  }

  /**
   * The fingerprint of the secret the pool's release webhook was last given, as the reconciler
   * recorded it ({@code pool_sweeps.webhook_signed}); null when none is recorded or no such pool.
   */
  @SuppressWarnings("unchecked")
  public String webhookSigned(String name) {
    List<String> rows =
        getEntityManager()
            .createNativeQuery(
                "select s.webhook_signed from pool_sweeps s join pools p on p.id = s.pool_id"
                    + " where p.name = ?1")
            .setParameter(1, name)
            .getResultList();
    return rows.isEmpty() ? null : rows.get(0);
  }

  /**
   * Serializes, until the transaction ends, the writes that claim routing (hosts, the default), in
   * every process: each checks the others' claims and commits before the next looks. Two-int
   * advisory keys, a key space apart from the pools' bigint pass locks.
   */
  public void lockRoutingClaims() {
    getEntityManager()
        .createNativeQuery("select count(*) from (select pg_advisory_xact_lock(1685221998, 1)) l")
        .getSingleResult();
  }

  /**
   * The source app each pool's passes pinned (Heroku's id, {@code pool_sweeps.source_app_pin}), by
   * pool id, as {@code {id, name}}: {@code name} is the source as the spec named it when it was
   * pinned (lower case; see V28__pool_sweeps_source_app_pin.sql). Pools not pinned are left out.
   */
  @SuppressWarnings("unchecked")
  public java.util.Map<UUID, String[]> sourcePins() {
    List<Object[]> rows =
        getEntityManager()
            .createNativeQuery(
                "select pool_id, source_app_pin, split_part(source_app_pin_for, chr(10), 1)"
                    + " from pool_sweeps where source_app_pin is not null"
                    + " and source_app_pin_for is not null")
            .getResultList();
    java.util.Map<UUID, String[]> pins = new java.util.HashMap<>();
    for (Object[] r : rows) {
      pins.put((UUID) r[0], new String[] {(String) r[1], (String) r[2]});
    }
    return pins;
  }

  /** Every pool with a routing host or default flag that could clash with {@code exceptName}. */
  public List<Pool> others(String exceptName) {
    return list("name <> ?1", exceptName);
  }

  /**
   * Writes status without touching spec: a bulk update, so a status write never fails on a
   * concurrent spec write; it still bumps resourceVersion (every write does).
   */
  public int writeStatus(UUID id, PoolStatus status, Instant now) {
    EntityManager em = getEntityManager();
    return em.createQuery(
            "update Pool p set p.status = :status, p.resourceVersion = p.resourceVersion + 1,"
                + " p.updatedAt = :now where p.id = :id")
        .setParameter("status", status)
        .setParameter("now", now)
        .setParameter("id", id)
        .executeUpdate();
  }

  /** Labels are stored as given; an absent map is stored as empty. */
  public static Map<String, String> labelsOrEmpty(Map<String, String> labels) {
    return labels == null ? Map.of() : labels;
  }

  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /** A new pool proxy secret ({@code DYNOFLEET_PROXY_SECRET}): 32 random bytes in hex. */
  public static String newProxySecret() {
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    return java.util.HexFormat.of().formatHex(random);
  }

  /**
   * Gives the pool a new proxy secret in place of the one it had (or its first), in the caller's
   * transaction. The backends configured before keep theirs ({@code backends.proxy_secret}), which
   * the proxy goes on sending them until they are replaced.
   */
  public void rotateProxySecret(UUID poolId) {
    getEntityManager()
        .createNativeQuery(
            "insert into pool_secrets (pool_id, proxy_secret) values (?1, ?2) on conflict"
                + " (pool_id) do update set proxy_secret = excluded.proxy_secret, created_at ="
                + " now()")
        .setParameter(1, poolId)
        .setParameter(2, newProxySecret())
        .executeUpdate();
  }
}
