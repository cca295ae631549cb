-- Per pool, the secret the proxy sends every backend in X-Dynofleet-Proxy-Secret and gives every
-- backend app as the config var DYNOFLEET_PROXY_SECRET, so an app can trust X-Dynofleet-Client-Ip
-- only from Dynofleet although its herokuapp.com address is open to all (audit 20 H2). Made by the
-- reconciler the first time a backend of the pool is configured (a pool made before has none until
-- then). A table of its own, not a column of pools: the API writes whole pool rows, which could put
-- back a null read before the secret was made, and no document the API answers with is built from
-- this table. Dynos of the release before neither read nor write it.
create table pool_secrets (
    pool_id      uuid         primary key references pools (id) on delete cascade,
    proxy_secret text         not null,
    created_at   timestamptz  not null default now()
);
