-- When a POST of the backend's was sent whose answer never came: its app's create (an intent) or its
-- release (release_id 'sent'). Heroku may carry a request out after the client gave up on it, so
-- until the client's longest wait is over (Platform#sendWindow) a pass neither takes it for never
-- made nor sends it again: an intent drained meanwhile keeps its row and is looked for again, so an
-- app made late is deleted, not orphaned (audit 19 #6); a release mark is waited for, not answered by
-- a second release whose release phase would run beside the first (audit 19 #11). Null: nothing on
-- its way (answered, or written by an older process: such rows are handled as before). Old processes
-- ignore it.
alter table backends add column sent_at timestamptz;
