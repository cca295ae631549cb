-- Whether a dyno's heartbeat keeps its verdicts fresh: true from the release that writes a verdict
-- only when it changes. The release before (V23) beats too but judges a verdict by its own seen_at
-- alone, so while a dyno whose heartbeat says false is seen, the new dynos write all their verdicts
-- at every heartbeat, as that release did (review 27 #3). That release's upsert leaves the default.
alter table dynofleet_dynos add column beats_verdicts boolean not null default false;
