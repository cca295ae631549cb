-- When the standing cause of a said-once event (RegionDiffers, AddonNotShared) was found gone: a
-- cause that comes back is said again. Before, the row of its first time kept it silent for as long
-- as the row lived. Null: the cause stands (or the event is not a said-once one). Old processes
-- ignore the column.
alter table pool_events add column cleared_at timestamptz;
