-- What a failing verdict met: the last probe's result (HTTP 503, connection refused, a timeout) or,
-- for an ejection, the last failed request's. The status and the BackendUnhealthy event said that a
-- backend fails, not how, which tells a crash loop from a dead dyno from an overload (audit 18 L5).
-- Nullable: dynos of the release before write no value, and a healthy verdict has none.
alter table backend_verdicts add column last_failure text;
