-- The periodic work of a pass, remembered for the fleet instead of per process (audit 21 H3): with
-- three dynos each did it once per interval, and a restart (every deploy, every config:set, Heroku's
-- daily cycling) did it all again at once. A pass skips what any dyno, or this one before a restart,
-- did within the interval. Each is written only after the work it records succeeded, by the
-- reconciler's clock. Nulls: not done yet (or by a process of the release before, which ignores
-- these columns and keeps its own timers).
--
-- backends.drift_checked_at: when the backend's config vars and formation were last compared with
-- the desired ones (the drift check, a few backends per pass, oldest first).
alter table backends add column drift_checked_at timestamptz;
-- pool_sweeps, per pool: the source's add-ons last read (with shareAddons), at which source release
-- and giving which target (a dyno whose own read is older and gave another target reads them again);
-- the pipeline last looked up by name (its id and owning team: no secret); the release webhook last
-- found as recorded, and a fingerprint of the webhook secret it was given (12 hex of SHA-256).
alter table pool_sweeps add column source_read_at timestamptz;
alter table pool_sweeps add column source_read_release text;
alter table pool_sweeps add column source_read_target text;
alter table pool_sweeps add column pipeline_read_at timestamptz;
alter table pool_sweeps add column pipeline_name text;
alter table pool_sweeps add column pipeline_id text;
alter table pool_sweeps add column pipeline_team text;
alter table pool_sweeps add column webhook_checked_at timestamptz;
alter table pool_sweeps add column webhook_signed varchar(16);
