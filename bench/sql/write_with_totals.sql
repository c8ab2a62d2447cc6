-- The shape of one service write on PostgreSQL: lock a mentor, change it, then update the one
-- list_totals row last, before COMMIT. Run against a database seeded by `python -m bench`.
\set n random(1, 10000)
BEGIN;
SELECT mentor_id FROM mentor_status WHERE mentor_id = 'mentor-' || lpad(:n::text, 7, '0') FOR UPDATE;
UPDATE mentor_status SET last_updated = now() WHERE mentor_id = 'mentor-' || lpad(:n::text, 7, '0');
UPDATE list_totals SET mentors_active = mentors_active + 0 WHERE id = 1;
COMMIT;
