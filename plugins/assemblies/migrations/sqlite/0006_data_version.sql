-- The assembly page (issue 18) keeps what it read of an assembly's members, meetings
-- and motions for as long as none of them changes. data_version counts their changes:
-- every insert, update and delete of those rows counts it up, in the transaction that
-- made it, whichever code made it, so a page compares one number instead of reading
-- the lists again.
ALTER TABLE assemblies ADD COLUMN data_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER members_inserted AFTER INSERT ON members BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id = NEW.assembly_id;
END;
CREATE TRIGGER members_updated AFTER UPDATE ON members BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id IN (OLD.assembly_id, NEW.assembly_id);
END;
CREATE TRIGGER members_deleted AFTER DELETE ON members BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id = OLD.assembly_id;
END;

CREATE TRIGGER meetings_inserted AFTER INSERT ON meetings BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id = NEW.assembly_id;
END;
CREATE TRIGGER meetings_updated AFTER UPDATE ON meetings BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id IN (OLD.assembly_id, NEW.assembly_id);
END;
CREATE TRIGGER meetings_deleted AFTER DELETE ON meetings BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id = OLD.assembly_id;
END;

CREATE TRIGGER motions_inserted AFTER INSERT ON motions BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id = NEW.assembly_id;
END;
CREATE TRIGGER motions_updated AFTER UPDATE ON motions BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id IN (OLD.assembly_id, NEW.assembly_id);
END;
CREATE TRIGGER motions_deleted AFTER DELETE ON motions BEGIN
    UPDATE assemblies SET data_version = data_version + 1 WHERE id = OLD.assembly_id;
END;
