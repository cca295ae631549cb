-- The source app a backend's release was taken from, by Heroku's id: pools naming one app by its
-- name and by its id take turns at release phases as pools naming it alike do (review 18 #10).
-- Null in rows older processes write; those are matched by the pool's sourceApp as before.
alter table backends add column source_app_id varchar(64);
