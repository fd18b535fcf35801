-- The Method of Equal Shares' add1 completion starts from a whole-unit endowment per
-- voter, as equalshares.net does, unless a cycle turns that off.
ALTER TABLE cycles ADD COLUMN mes_integral BOOLEAN NOT NULL DEFAULT TRUE;
