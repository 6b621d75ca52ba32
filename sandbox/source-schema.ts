/**
 * Source tables of seed 004 §1: customers, orders and the schema evolution table in PostgreSQL;
 * products and inventory_transactions in MySQL/MariaDB. Column types, keys and indexes as the seed
 * lists them. Plus each source's Debezium signal table, from the same SQL a database owner runs for
 * a deployed stack (plan/signal-table.ts).
 */
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import type { StackSpec } from "../model/spec";
import { mysqlSignalTableDdl, postgresSignalTableDdl } from "../plan/signal-table";

export const POSTGRES_SOURCE_DDL = `
CREATE TABLE customers (
    customer_id       SERIAL PRIMARY KEY,
    email             VARCHAR(255) NOT NULL UNIQUE,
    first_name        VARCHAR(100) NOT NULL,
    last_name         VARCHAR(100) NOT NULL,
    phone             VARCHAR(20),
    address_line1     VARCHAR(255),
    city              VARCHAR(100),
    state             VARCHAR(50),
    postal_code       VARCHAR(20),
    country           VARCHAR(100) NOT NULL DEFAULT 'USA',
    registration_date TIMESTAMP NOT NULL,
    last_updated      TIMESTAMP NOT NULL,
    is_active         BOOLEAN DEFAULT TRUE,
    customer_tier     VARCHAR(20),
    lifetime_value    NUMERIC(12,2) DEFAULT 0.00
);
CREATE INDEX customers_last_updated_idx ON customers (last_updated);
CREATE INDEX customers_is_active_idx ON customers (is_active);

CREATE TABLE orders (
    order_id         SERIAL PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers (customer_id),
    order_date       TIMESTAMP NOT NULL,
    order_status     VARCHAR(50) NOT NULL,
    total_amount     NUMERIC(12,2) NOT NULL,
    shipping_address JSONB,
    payment_method   VARCHAR(50),
    order_notes      TEXT,
    last_updated     TIMESTAMP NOT NULL
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_order_date_idx ON orders (order_date);
CREATE INDEX orders_order_status_idx ON orders (order_status);
CREATE INDEX orders_shipping_address_idx ON orders USING GIN (shipping_address);

CREATE TABLE cdc_schema_evolution_test (
    id              SERIAL PRIMARY KEY,
    original_column VARCHAR(255) NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
`;

export const MARIADB_SOURCE_DDL = [
    `CREATE TABLE products (
        product_id        INT PRIMARY KEY AUTO_INCREMENT,
        sku               VARCHAR(100) NOT NULL UNIQUE,
        product_name      VARCHAR(255) NOT NULL,
        description       TEXT NULL,
        category          VARCHAR(100) NOT NULL,
        price             DECIMAL(10,2) NOT NULL,
        cost              DECIMAL(10,2) NULL,
        quantity_in_stock INT DEFAULT 0,
        supplier_id       INT NULL,
        created_at        DATETIME NOT NULL,
        updated_at        DATETIME NOT NULL,
        is_discontinued   TINYINT(1) DEFAULT 0,
        INDEX products_category_idx (category),
        INDEX products_updated_at_idx (updated_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `CREATE TABLE inventory_transactions (
        transaction_id     BIGINT PRIMARY KEY AUTO_INCREMENT,
        product_id         INT NOT NULL,
        transaction_type   ENUM('purchase','sale','adjustment','return') NOT NULL,
        quantity_change    INT NOT NULL,
        transaction_date   DATETIME NOT NULL,
        reference_order_id BIGINT NULL,
        notes              VARCHAR(500) NULL,
        created_at         DATETIME NOT NULL,
        INDEX inventory_transactions_product_id_idx (product_id),
        INDEX inventory_transactions_transaction_date_idx (transaction_date),
        INDEX inventory_transactions_transaction_type_idx (transaction_type)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

/** Seed 004 §1.1 / §6: the schema evolution steps on cdc_schema_evolution_test, in order. */
export const SCHEMA_EVOLUTION_STEPS = [
    { name: "add column", sql: "ALTER TABLE cdc_schema_evolution_test ADD COLUMN new_column_added VARCHAR(100)" },
    { name: "drop column", sql: "ALTER TABLE cdc_schema_evolution_test DROP COLUMN original_column" },
    { name: "widen type", sql: "ALTER TABLE cdc_schema_evolution_test ALTER COLUMN new_column_added TYPE TEXT" },
    { name: "rename column", sql: "ALTER TABLE cdc_schema_evolution_test RENAME COLUMN new_column_added TO renamed_column" },
] as const;

/**
 * The signal table of every pipeline's source, before its connector first starts (so the filtered publication
 * Debezium creates includes it). The sandbox's logins own the tables, so no GRANT is needed here.
 */
export async function createSignalTables(spec: StackSpec, urls: { postgres: string; mariaDb: string }): Promise<void> {
    for (const { source } of spec.pipelines) {
        if (source.kind === "postgres") {
            const pg = new Client({ connectionString: urls.postgres });
            await pg.connect();
            await pg.query(postgresSignalTableDdl(source)).finally(() => pg.end());
        } else if (source.kind === "mariadb" || source.kind === "mysql") {
            const maria = await mysql.createConnection({ uri: urls.mariaDb });
            await maria.query(mysqlSignalTableDdl(source)).finally(() => maria.end());
        }
    }
}
