-- The simulator's own bookkeeping (not part of any seed).
CREATE TABLE IF NOT EXISTS sim_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL  -- JSON
);

-- Replies of applied open-ability commands by "command:id": a replayed command gets its
-- first reply and is not applied again.
CREATE TABLE IF NOT EXISTS sim_replies (
    key   TEXT PRIMARY KEY,
    reply TEXT NOT NULL  -- JSON
);
