-- Each Dynofleet dyno's own verdict on each backend of each pool: its proxy's probes and passive
-- checks. Health was each process's alone, so with two dynos whose views differed, passes on
-- alternate dynos said Unhealthy, then Recovered, then Unhealthy (review 13): now a pass merges
-- every fresh verdict (RouteSync, FleetHealth). A dyno writes its rows when a verdict changes and
-- refreshes seen_at on a heartbeat; a row older than the verdict TTL is ignored (a dead dyno's),
-- and deleted after an hour. Freshness is judged by the database's clock, not the dynos'.
create table backend_verdicts (
    pool_id              uuid         not null references pools (id) on delete cascade,
    backend              text         not null,
    dyno                 text         not null,
    healthy              boolean      not null,
    ejected              boolean      not null,
    consecutive_failures integer      not null,
    last_probe           timestamptz,
    seen_at              timestamptz  not null,
    primary key (pool_id, backend, dyno)
);
create index backend_verdicts_dyno on backend_verdicts (dyno);
