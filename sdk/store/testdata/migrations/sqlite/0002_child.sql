CREATE TABLE children (
    id        TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL REFERENCES parents (id)
);
INSERT INTO parents (id, name) VALUES ('p1', 'first');
