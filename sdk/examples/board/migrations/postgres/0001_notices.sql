CREATE TABLE notices (
    id               BIGSERIAL PRIMARY KEY,
    neighbourhood_id TEXT NOT NULL,
    author_id        TEXT NOT NULL,
    text             TEXT NOT NULL
);
CREATE INDEX notices_by_neighbourhood ON notices (neighbourhood_id, id);
