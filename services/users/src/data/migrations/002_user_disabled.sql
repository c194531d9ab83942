-- A disabled account keeps its history but may not act; other services read it through GetUser.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
