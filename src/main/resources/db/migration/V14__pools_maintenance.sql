-- spec.routing.maintenance (audit 20 M6) is stored as every other default is, so a pool made
-- before it reads back the complete spec the proxy acts on (off), and its first write after the
-- upgrade, or its pool file at the next start, is no spec change (no new generation, no
-- SpecChanged event). resource_version stays: only a default is filled in, as V11 did.
-- maintenancePageUrl has no default and is not filled in. Dynos of the release before ignore both.
update pools
   set spec = jsonb_set(spec, '{routing}',
                        coalesce(spec -> 'routing', '{}'::jsonb) || '{"maintenance": false}'::jsonb)
 where not coalesce(spec -> 'routing', '{}'::jsonb) ? 'maintenance';
