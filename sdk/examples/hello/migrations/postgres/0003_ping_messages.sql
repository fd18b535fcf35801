-- A greeting sent from the page carries a short message; pings made through the API
-- (and all before this) have none.
ALTER TABLE pings ADD COLUMN message TEXT NOT NULL DEFAULT '';
