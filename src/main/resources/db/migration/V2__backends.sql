-- One row per backend app a managed pool owns or intends to own. The row is written BEFORE the
-- app is created (step 'Intended'), so a crash between "create app" and "remember it" is resolved
-- by adopting the app on the next pass, never by creating a twin.
create table backends (
    id               uuid         primary key,
    pool_id          uuid         not null references pools (id) on delete cascade,
    app_name         varchar(30)  not null unique,
    app_id           varchar(64),
    web_url          text,
    step             varchar(16)  not null,
    phase            varchar(16)  not null,
    target           varchar(160) not null,
    release_id       varchar(64),
    release_version  integer,
    coupling_id      varchar(64),
    failures         integer      not null default 0,
    created_at       timestamptz  not null,
    updated_at       timestamptz  not null,
    ready_at         timestamptz,
    unhealthy_since  timestamptz,
    restarted_at     timestamptz,
    message          text
);
create index backends_pool on backends (pool_id);
