-- Desired state (spec, written by the API) and observed state (status, written by the reconciler)
-- of every BackendPool, plus its bounded event log.
create table pools (
    id                 uuid         primary key,
    name               varchar(63)  not null unique,
    generation         bigint       not null,
    resource_version   bigint       not null,
    labels             jsonb        not null default '{}'::jsonb,
    spec               jsonb        not null,
    status             jsonb,
    created_at         timestamptz  not null,
    updated_at         timestamptz  not null,
    deletion_timestamp timestamptz
);

create table pool_events (
    id          bigserial    primary key,
    pool_id     uuid         not null references pools (id) on delete cascade,
    type        varchar(16)  not null,
    reason      varchar(64)  not null,
    message     text         not null,
    count       integer      not null default 1,
    first_seen  timestamptz  not null,
    last_seen   timestamptz  not null
);
create index pool_events_pool_last_seen on pool_events (pool_id, last_seen desc);
