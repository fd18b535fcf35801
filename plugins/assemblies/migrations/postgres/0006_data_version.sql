-- The assembly page (issue 18) keeps what it read of an assembly's members, meetings
-- and motions for as long as none of them changes. data_version counts their changes:
-- every insert, update and delete of those rows counts it up, in the transaction that
-- made it, whichever code or node made it, so a page compares one number instead of
-- reading the lists again. The trigger runs at commit (a deferred constraint trigger),
-- after the transaction's own row locks, so the assembly's row is locked last and
-- briefly.
ALTER TABLE assemblies ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION assemblies_data_changed() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE assemblies SET data_version = data_version + 1 WHERE id = OLD.assembly_id;
    END IF;
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' AND NEW.assembly_id IS DISTINCT FROM OLD.assembly_id THEN
        UPDATE assemblies SET data_version = data_version + 1 WHERE id = NEW.assembly_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER members_data_changed AFTER INSERT OR UPDATE OR DELETE ON members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION assemblies_data_changed();
CREATE CONSTRAINT TRIGGER meetings_data_changed AFTER INSERT OR UPDATE OR DELETE ON meetings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION assemblies_data_changed();
CREATE CONSTRAINT TRIGGER motions_data_changed AFTER INSERT OR UPDATE OR DELETE ON motions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION assemblies_data_changed();
