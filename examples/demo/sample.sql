-- The sample warehouse `metaform demo` creates in an embedded PostgreSQL.
CREATE ROLE data_platform;
CREATE ROLE jane;
CREATE SCHEMA sales;
CREATE SCHEMA marketing;
CREATE TABLE sales.customers (id bigint PRIMARY KEY, email text NOT NULL, country char(2));
CREATE TABLE sales.orders (
  id bigint PRIMARY KEY,
  customer_id bigint REFERENCES sales.customers (id),
  amount numeric(12, 2),
  ordered_at timestamptz DEFAULT now()
);
CREATE VIEW sales.large_orders AS SELECT * FROM sales.orders WHERE amount > 1000;
CREATE TABLE marketing.campaigns (id int PRIMARY KEY, name text, budget numeric);
COMMENT ON TABLE sales.orders IS 'orders';
