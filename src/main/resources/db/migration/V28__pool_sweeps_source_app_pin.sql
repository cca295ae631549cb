-- The source app a pool copies, by Heroku's id (security review 5, S5-6). App names are global and
-- free again once an app is deleted or renamed: a pool that followed spec.template.sourceApp by name
-- released whatever app next took the name onto its backends, with the template's secrets and the
-- pool's traffic. The id is pinned at the first read of the source after the spec names it; a read
-- that finds another app under the name stops creating and rolling out (Degraded SourceReplaced)
-- until a human confirms the new app (a rollout restart, or a spec naming the source anew, by name
-- or by id).
--
-- source_app_pin: the pinned app's id; source_app_pin_for: what the spec said when it was pinned
-- (spec.template.sourceApp in lower case, a line feed, spec.template.restartedAt or nothing): a
-- change of either pins the app then read. Nulls: not pinned yet (a pool not read since the
-- upgrade: its backends' source_app_id, when they carry one, is taken as the pin). Old processes
-- ignore both and follow the name as before.
alter table pool_sweeps add column source_app_pin text;
alter table pool_sweeps add column source_app_pin_for text;
