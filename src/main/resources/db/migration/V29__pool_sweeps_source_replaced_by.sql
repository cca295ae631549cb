-- The app a pool's pass last said SourceReplaced for (review 30 R30-6): the id of the app found
-- under the source's name that was not the pinned one. A rollout restart alone (only restartedAt
-- changed) confirms that app and no other, while the pool's last pass still says SourceReplaced.
-- Read before from the condition's message (which names the id); the column does not depend on
-- its wording. Null: none said since the pin (a row written before the upgrade: the message is
-- read as before). Cleared when the pool is pinned anew. Old processes ignore it.
alter table pool_sweeps add column source_replaced_by text;
