-- When the last pass of the pool (by any dyno) began, by the database's clock, taken before the pass
-- read the fleet's health verdicts and written with swept_at at its end (review 27 #2). A health
-- change's queued pass is moot only once a pass that began after the change's turn has ended: a pass
-- that read the verdicts before the change, and judged the backend by them, ended after the turn and
-- made it moot by swept_at, so the change waited for the pool's idle look. Null: not known (no pass
-- of this release yet, or its start could not be read), which makes no health change moot. Old
-- processes neither write nor read it: their passes leave it older than their swept_at, which makes
-- no later health change moot either.
alter table pool_sweeps add column pass_started_at timestamptz;
