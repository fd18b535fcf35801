-- Hybrid and online meetings (issue 18): attendance records whether a member took part
-- from home (through the meeting's online link) or in the room. Every row recorded
-- before this migration was in the room, which is the only way one could attend then.
ALTER TABLE attendance ADD COLUMN remote INTEGER NOT NULL DEFAULT 0;

-- The city-wide list of answers the city still owes (GET /api/v1/assemblies/answers)
-- reads adopted motions waiting for an answer, nearest deadline first, a page at a
-- time: this index holds only those, in that order.
CREATE INDEX motions_answer_due ON motions (answer_due_at, id) WHERE answer_status IN ('submitted', 'acknowledged');
