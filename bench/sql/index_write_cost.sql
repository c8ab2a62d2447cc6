-- Index maintenance cost of a bulk of pause-record and mentor writes, rolled back: run it with
-- psql -f against a database seeded by bench/seed.py (10,000 rows), with and without an index set.
\timing on
BEGIN;
INSERT INTO pause_record (mentor_id, start_date, expected_return_date, end_date, reason, created_at)
SELECT 'mentor-' || lpad(((g % 10000) + 1)::text, 7, '0'), now() - g * interval '1 minute', now(), now(), 'sick_leave', now() FROM generate_series(1, 50000) g;
INSERT INTO pause_record (mentor_id, start_date, expected_return_date, end_date, reason, created_at)
SELECT mentor_id, now(), now() + interval '1 day', NULL, 'travel', now() FROM mentor_status m WHERE NOT EXISTS (SELECT 1 FROM pause_record p WHERE p.mentor_id = m.mentor_id AND p.end_date IS NULL);
UPDATE pause_record SET end_date = now() + interval '2 day' WHERE end_date IS NULL AND reason = 'travel';
UPDATE mentor_status SET last_updated = now() WHERE mentor_id < 'mentor-0005000';
ROLLBACK;
