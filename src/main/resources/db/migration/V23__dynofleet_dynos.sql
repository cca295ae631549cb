-- Each Dynofleet dyno's heartbeat, written with its proxy's full verdict write (every third of the
-- verdict TTL) whatever backends it has: the Platform API limiter shares the account's refill
-- between the dynos seen, and a dyno was seen only through verdict rows, which a dyno without a
-- probed backend (a fleet's first rollout) does not write (review 26 #4). Deleted by the dyno at
-- its stop, and by any dyno an hour after its last beat. Old processes neither write nor read it.
create table dynofleet_dynos (
    dyno     text         primary key,
    seen_at  timestamptz  not null
);
