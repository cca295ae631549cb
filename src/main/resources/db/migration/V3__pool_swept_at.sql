-- When any dyno last ran a reconcile pass over the pool (database time). Each dyno's periodic
-- sweep skips pools another dyno passed lately, so a fleet of dynos sweeps each pool about once
-- per interval instead of once per dyno. Not part of the resource: writing it moves neither
-- resourceVersion nor generation.
alter table pools add column swept_at timestamptz;
