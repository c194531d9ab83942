-- The double-entry ledger, append-only. A journal is one movement of money (a charge or a refund); its entries
-- are signed minor units (received positive, given negative) and sum to zero per currency.
CREATE TABLE ledger_entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  journal_id uuid NOT NULL,
  payment_id uuid NOT NULL REFERENCES payments (id),
  kind text NOT NULL CONSTRAINT ledger_entries_kind_known CHECK (kind IN ('charge', 'refund')),
  account text NOT NULL,
  amount bigint NOT NULL,
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A payment is charged once and refunded once, whatever retries happen.
  CONSTRAINT ledger_entries_once_per_payment UNIQUE (payment_id, kind, account)
);

CREATE INDEX ledger_entries_journal_idx ON ledger_entries (journal_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account);

-- Checked at commit, when every entry of the journal is in: a journal that does not balance is refused.
CREATE FUNCTION ledger_journal_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM ledger_entries WHERE journal_id = NEW.journal_id
    GROUP BY currency HAVING sum(amount) <> 0
  ) THEN
    RAISE EXCEPTION 'ledger journal % does not balance', NEW.journal_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_entries_balanced
  AFTER INSERT ON ledger_entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_journal_balances();

-- What was booked stays booked: a mistake is corrected by a new journal, never by editing an old one.
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are append-only' USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER ledger_entries_no_change
  BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();
