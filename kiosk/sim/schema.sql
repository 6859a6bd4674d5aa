-- The simulator's own bookkeeping (not part of any seed).
CREATE TABLE IF NOT EXISTS sim_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL  -- JSON
);
