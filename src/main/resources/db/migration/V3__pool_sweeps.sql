-- When any dyno last ran a reconcile pass over a pool (database time). Each dyno's periodic sweep
-- skips pools another dyno passed lately, so a fleet of dynos sweeps each pool about once per
-- interval instead of once per dyno. A table of its own, not a column of pools: a write to a pools
-- row moves its xmin, which the proxies' change detection reads, and every pass would make every
-- dyno reload every pool.
create table pool_sweeps (
    pool_id  uuid        primary key references pools (id) on delete cascade,
    swept_at timestamptz not null
);
