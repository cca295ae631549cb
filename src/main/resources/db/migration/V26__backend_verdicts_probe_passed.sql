-- Whether the backend's last active probe from this dyno passed: true or false once it was probed,
-- null when it has not been (no health check, or no probe yet). A pass tells `BackendEjected` ("its
-- health check passes") only once a probe after the ejection passed, and an ejected backend counts
-- as failing only once its probes failed unhealthyThreshold times in a row: the verdict said only
-- that a probe had run, so a crashed backend's first failed probe was taken for a passing one
-- (review 28 #1). Written as any other change of a verdict, at once. Nullable: the release before
-- does not know the column, and its rows read as unknown, judged as before (a probe that ran).
alter table backend_verdicts add column probe_passed boolean;
