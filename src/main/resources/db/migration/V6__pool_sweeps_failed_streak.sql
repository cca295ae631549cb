-- New apps of a pool that failed in a row at a release another app got ready on, and when the next
-- may be made (Reconciler: 1 min, 2 min, then a stall). It was each process's: with two dynos the
-- other one made a replacement at once, and a restart forgot the count. Written and read only
-- inside a pass, under the pool's advisory lock. Null target: no streak. Old processes ignore it.
alter table pool_sweeps add column failed_target text;
alter table pool_sweeps add column failed_count integer;
alter table pool_sweeps add column failed_retry_at timestamptz;
