-- Whose Heroku key a pool's shared backoff (not_before) is about: set when the Platform API refused
-- the key of the process that wrote it (401), null for every other failure. A process holding
-- another key (the new one, after a rotation; preboot keeps the old dynos, with the revoked key,
-- running beside the new ones for minutes) does not wait out a refusal that was not its own
-- (audit 14). A short fingerprint (12 hex of SHA-256), not the key. Old processes ignore it.
alter table pool_sweeps add column not_before_key varchar(16);
