-- The sync engine: each change's sequence number within its actor (to refuse an actor
-- reusing a number), and the materialised state each snapshot covers (shown to a client
-- at once while the saved document loads).

ALTER TABLE changes ADD COLUMN actor_seq INTEGER NOT NULL DEFAULT 0;

ALTER TABLE snapshots ADD COLUMN code TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN title TEXT NOT NULL DEFAULT '';
