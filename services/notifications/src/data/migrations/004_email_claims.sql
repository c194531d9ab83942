-- A sender claims a notification's email for a while instead of holding a transaction open across the SMTP
-- exchange; a sender that dies mid-send lets the claim run out and the email is tried again (at-least-once).
ALTER TABLE notifications ADD COLUMN email_claimed_until timestamptz;
