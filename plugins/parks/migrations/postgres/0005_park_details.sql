-- Issue 20: what a park's public page and a search engine need (a description,
-- the postal address and coordinates, accessibility information and the rules in
-- prose), and areas that can be edited after creation (updated_at; a description
-- and accessibility notes of their own). Coordinates are NULL until staff enter them.
-- A park's plan is a static image staff upload (the host keeps the file; the park keeps
-- its upload id and the plan's text alternative): a map without an outside tile server.
ALTER TABLE parks ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN street_address TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN postal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN locality TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN latitude DOUBLE PRECISION;
ALTER TABLE parks ADD COLUMN longitude DOUBLE PRECISION;
ALTER TABLE parks ADD COLUMN accessibility TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN rules_text TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN plan_upload_id TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN plan_alt TEXT NOT NULL DEFAULT '';
ALTER TABLE areas ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE areas ADD COLUMN accessibility TEXT NOT NULL DEFAULT '';
ALTER TABLE areas ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE areas SET updated_at = created_at;
