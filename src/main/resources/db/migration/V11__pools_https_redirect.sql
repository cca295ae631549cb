-- spec.routing.httpsRedirect (audit 20 H1) is stored as every other default is, so a pool made
-- before it reads back the complete spec the proxy acts on (on), and its first write after the
-- upgrade, or its pool file at the next start, is no spec change (no new generation, no
-- SpecChanged event). resource_version stays: only a default is filled in, as Kubernetes defaults a
-- stored object when it reads it. Dynos of the release before ignore the field.
update pools
   set spec = jsonb_set(spec, '{routing}',
                        coalesce(spec -> 'routing', '{}'::jsonb) || '{"httpsRedirect": true}'::jsonb)
 where not coalesce(spec -> 'routing', '{}'::jsonb) ? 'httpsRedirect';
