-- Interviewer-private notes: each interview room may have one notes document, kept as a
-- room of its own (its own change log and snapshots) that has no candidate link. Its
-- `parent_id` is the interview room; '' for an interview room itself. A notes room is
-- deleted with its interview room.
ALTER TABLE rooms ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';

CREATE UNIQUE INDEX rooms_notes ON rooms (parent_id) WHERE parent_id <> '';
