-- A pool whose last pass failed (a refused key, an invalid spec, a rate limit) is left out of the
-- sweeps of every dyno until its backoff is over; before, each dyno's sweep passed it again about
-- every 30 s, whatever its backoff said. A spec change still reconciles it at once, and so does a
-- new process's first sweep (a restart may be the fix: a new HEROKU_API_KEY restarts the dynos).
alter table pool_sweeps add column not_before timestamptz;
