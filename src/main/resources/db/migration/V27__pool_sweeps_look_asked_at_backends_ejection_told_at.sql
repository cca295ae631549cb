-- When a heard release webhook delivery last asked for the pool's next look (review 29 R29-12), by
-- the database's clock, written with next_look_at in the hook's statement: at once, or at the end of
-- a deferral within hook-pass-interval. A pass under way then ends keeping that look, if sooner than
-- its own: it began before the delivery and has not looked at its release, and its end replaced the
-- look, so a dyno that stopped before the deferred pass left the release to the idle turn. Null: no
-- delivery asked. Old processes neither write nor read it (their passes replace the look, as before).
alter table pool_sweeps add column look_asked_at timestamptz;
-- When BackendEjected was last told for the backend (review 29 R29-5), by the reconciler's clock: once
-- per replace window for the fleet. It was kept in each dyno's memory while the passes move between
-- dynos (health turns, sweeps, takeovers), so a flapping backend was told once per window by each.
-- Null: not told. Old processes neither write nor read it (they keep their own, as before).
alter table backends add column ejection_told_at timestamptz;
