-- compose.yaml's PostgreSQL: one database per service that owns one (supervisor/src/topology.ts; the gateway's
-- holds the audit of its admin actions), created by the official image on its first start; each service then
-- creates its own tables.
CREATE DATABASE souk_gateway;
CREATE DATABASE souk_users;
CREATE DATABASE souk_orders;
CREATE DATABASE souk_payments;
CREATE DATABASE souk_inventory;
CREATE DATABASE souk_notifications;
