-- The proxy secret each backend app was configured with (its DYNOFLEET_PROXY_SECRET), so the proxy
-- sends every backend the secret it holds: after a rotation (POST .../proxy-secret/rotate) the new
-- apps hold the pool's new secret while the old ones, until the rollout replaces them, still hold
-- the previous one, and sent the new one they would stop trusting X-Dynofleet-Client-Ip. Null for
-- a backend not configured yet, or configured by a dyno of the release before: the proxy sends it
-- the pool's secret, as before. The backends configured so far got the pool's secret of now (or,
-- made before the secret existed, none, which the proxy sent them already): it is recorded as
-- theirs. Dynos of the release before neither read nor write the column.
alter table backends add column proxy_secret text;

update backends b
   set proxy_secret = s.proxy_secret
  from pool_secrets s
 where s.pool_id = b.pool_id
   and b.step not in ('INTENDED', 'CREATED');
