-- write_with_totals.sql plus what the change log adds: the head row handing out the change id, and
-- the entry itself, last before COMMIT as in the service.
\set n random(1, 10000)
BEGIN;
SELECT mentor_id FROM mentor_status WHERE mentor_id = 'mentor-' || lpad(:n::text, 7, '0') FOR UPDATE;
UPDATE mentor_status SET last_updated = now() WHERE mentor_id = 'mentor-' || lpad(:n::text, 7, '0');
UPDATE list_totals SET mentors_active = mentors_active + 0 WHERE id = 1;
UPDATE change_log_head SET last_change_id = last_change_id + 1 WHERE id = 1 RETURNING last_change_id \gset
INSERT INTO change_entry (change_id, at, actor, request_id, resource, resource_id, mentor_id, event, before_state, after_state)
VALUES (:last_change_id, now(), 'pgbench', 'pgbench', 'mentor_status', 'mentor-' || lpad(:n::text, 7, '0'),
        'mentor-' || lpad(:n::text, 7, '0'), 'updated', '{}', '{}');
COMMIT;
