-- When an authenticated release webhook delivery for the pool was last heard (review 25 #3), by any
-- dyno, written by the hook with the reconciler's clock in the statement that clears next_look_at.
-- The idle turn is four times as long with a subscription only while deliveries are heard (within a
-- day, and since the subscription was recorded: a new one sets it back to null); a pass that finds
-- a new release by a look, not after a delivery, says WebhookSilent. Null: none heard. Old
-- processes ignore it (and stretch the turn on the subscription alone, as before).
alter table pool_sweeps add column webhook_heard_at timestamptz;
