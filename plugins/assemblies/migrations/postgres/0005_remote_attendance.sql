-- Hybrid and online meetings (issue 18): attendance records whether a member took part
-- from home (through the meeting's online link) or in the room. Every row recorded
-- before this migration was in the room, which is the only way one could attend then.
ALTER TABLE attendance ADD COLUMN remote BOOLEAN NOT NULL DEFAULT FALSE;
