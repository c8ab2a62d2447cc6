-- write_with_totals.sql without the list_totals update: the same writes with no shared row.
\set n random(1, 10000)
BEGIN;
SELECT mentor_id FROM mentor_status WHERE mentor_id = 'mentor-' || lpad(:n::text, 7, '0') FOR UPDATE;
UPDATE mentor_status SET last_updated = now() WHERE mentor_id = 'mentor-' || lpad(:n::text, 7, '0');
COMMIT;
