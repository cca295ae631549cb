-- When the sweep next looks at a pool (audit 21 H1, M3): a pass that found the pool idle sets it to
-- the idle-look interval (which grows with the number of pools, so the sweep's Platform API calls fit
-- a share of Heroku's refill), one that waits for the rate budget or a release sets it to that wait.
-- Every dyno's sweep honours it as it honours not_before; a spec change, a webhook or a backend's
-- health change still brings a pass at once. Null: due as soon as swept_at is old enough. Old
-- processes ignore it.
alter table pool_sweeps add column next_look_at timestamptz;
