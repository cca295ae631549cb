-- The pipeline's couplings last read for a pool, for the fleet (review 25 #2, #9): each dyno read
-- them once per drift interval and again at each start, and kept the source app's stage (the
-- backends' stage with spec.template.stage "source") to itself, so after the source was coupled or
-- moved, dynos derived different targets for up to an interval and drained each other's new apps.
-- A pass adopts a newer read than its own (its stage included) and skips the read within the
-- interval. Written after the read and its checks succeeded, by the reconciler's clock, and only
-- over an older read. Nulls: not read yet (or by a process of the release before, which ignores
-- these columns and keeps its own timer).
--
-- couplings_read_at: when; couplings_generation: the pool's generation then (a spec change reads
-- them again); couplings_pipeline_id: the pipeline read; couplings_source_app: the id of the source
-- app whose stage was taken (null: no source known then); couplings_source_stage: that app's stage
-- in the pipeline (null: not coupled to it).
alter table pool_sweeps add column couplings_read_at timestamptz;
alter table pool_sweeps add column couplings_generation bigint;
alter table pool_sweeps add column couplings_pipeline_id text;
alter table pool_sweeps add column couplings_source_app text;
alter table pool_sweeps add column couplings_source_stage text;
