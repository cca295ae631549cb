-- The fleet-wide events view (GET .../v1/events, audit 21 L3): newest first across pools, paged by
-- (last_seen, id); and the hourly retention delete by age. Pools keep up to 1,000 events now
-- (was 200). Old processes neither use nor mind it.
create index pool_events_last_seen on pool_events (last_seen desc, id desc);
