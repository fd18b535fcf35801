-- Issue 19: an author may propose anonymously; the public sees the proposal without
-- its author, the city still knows who to tell about its review.
ALTER TABLE proposals ADD COLUMN anonymous BOOLEAN NOT NULL DEFAULT FALSE;
