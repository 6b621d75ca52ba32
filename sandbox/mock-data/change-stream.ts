/**
 * The initial data set and a deterministic stream of inserts, updates and deletes over it. Both are
 * pure given (seed, clock): the stream keeps only the ids and facts it needs to stay consistent with
 * the seed's rules (orders reference live customers and never predate them; customers with orders
 * are not deleted, as the orders' foreign key would refuse it).
 */
import { Rng } from "./prng";
import * as rows from "./rows";
import { ORDER_STATUSES } from "./distributions";

export type TableName = "customers" | "orders" | "products" | "inventory_transactions";
export type Row = Record<string, unknown>;

export type Change =
    | { table: TableName; op: "insert"; row: Row }
    | { table: TableName; op: "update"; key: Row; set: Row }
    | { table: TableName; op: "delete"; key: Row };

export interface DatasetSize {
    customers: number;
    ordersPerCustomer: number;
    products: number;
    transactionsPerProduct: number;
}

export interface Dataset {
    customers: rows.Customer[];
    orders: rows.Order[];
    products: rows.Product[];
    inventory_transactions: rows.InventoryTransaction[];
}

export const PRIMARY_KEYS: Readonly<Record<TableName, string>> = {
    customers: "customer_id",
    orders: "order_id",
    products: "product_id",
    inventory_transactions: "transaction_id",
};

export function initialDataset(seed: number, size: DatasetSize, now: Date): Dataset {
    const rng = new Rng(seed);
    const customers = Array.from({ length: size.customers }, (_, i) => rows.customer(rng, i + 1, now));
    const orders = Array.from({ length: Math.round(size.customers * size.ordersPerCustomer) }, (_, i) =>
        rows.order(rng, i + 1, rng.pick(customers), now),
    );
    const products = Array.from({ length: size.products }, (_, i) => rows.product(rng, i + 1, now));
    const orderIds = orders.map((o) => o.order_id);
    const inventory_transactions = Array.from({ length: Math.round(size.products * size.transactionsPerProduct) }, (_, i) =>
        rows.inventoryTransaction(rng, i + 1, rng.pick(products).product_id, orderIds, now),
    );
    return { customers, orders, products, inventory_transactions };
}

/** Relative frequency of each table and operation in the stream. */
interface StreamMix {
    tables: readonly (readonly [TableName, number])[];
    ops: readonly (readonly ["insert" | "update" | "delete", number])[];
}

const DEFAULT_MIX: StreamMix = {
    tables: [
        ["customers", 25],
        ["orders", 35],
        ["products", 15],
        ["inventory_transactions", 25],
    ],
    ops: [
        ["insert", 40],
        ["update", 45],
        ["delete", 15],
    ],
};

/** Forward-only status moves of an order; delivered and cancelled orders stay as they are. */
const NEXT_STATUS: Record<string, string> = { pending: "processing", processing: "shipped", shipped: "delivered" };

type CustomerFacts = Pick<rows.Customer, "customer_id" | "registration_date" | "country"> & { orders: number };

/** A set with O(1) random pick and delete (swap-remove). */
class IdPool {
    private readonly ids: number[] = [];
    private readonly index = new Map<number, number>();

    add(id: number): void {
        this.index.set(id, this.ids.length);
        this.ids.push(id);
    }

    remove(id: number): void {
        const i = this.index.get(id);
        if (i === undefined) return;
        const last = this.ids.pop()!;
        this.index.delete(id);
        if (last !== id) {
            this.ids[i] = last;
            this.index.set(last, i);
        }
    }

    pick(rng: Rng): number | undefined {
        return this.ids.length === 0 ? undefined : this.ids[Math.floor(rng.next() * this.ids.length)];
    }

    get size(): number {
        return this.ids.length;
    }

    all(): readonly number[] {
        return this.ids;
    }
}

export class ChangeStream {
    private readonly rng: Rng;
    private readonly customers = new Map<number, CustomerFacts>();
    private readonly customerIds = new IdPool();
    private readonly orders = new Map<number, { customer_id: number; status: string }>();
    private readonly orderIds = new IdPool();
    private readonly productIds = new IdPool();
    private readonly transactionIds = new IdPool();
    private readonly nextId: Record<TableName, number>;

    constructor(
        seed: number,
        dataset: Dataset,
        private readonly mix: StreamMix = DEFAULT_MIX,
    ) {
        this.rng = new Rng(seed ^ 0x5eed);
        for (const c of dataset.customers) {
            this.customers.set(c.customer_id, {
                customer_id: c.customer_id,
                registration_date: c.registration_date,
                country: c.country,
                orders: 0,
            });
            this.customerIds.add(c.customer_id);
        }
        for (const o of dataset.orders) {
            this.orders.set(o.order_id, { customer_id: o.customer_id, status: o.order_status });
            this.orderIds.add(o.order_id);
            this.customers.get(o.customer_id)!.orders++;
        }
        for (const p of dataset.products) this.productIds.add(p.product_id);
        for (const t of dataset.inventory_transactions) this.transactionIds.add(t.transaction_id);
        const after = (ids: number[]) => ids.reduce((m, id) => Math.max(m, id), 0) + 1;
        this.nextId = {
            customers: after(dataset.customers.map((c) => c.customer_id)),
            orders: after(dataset.orders.map((o) => o.order_id)),
            products: after(dataset.products.map((p) => p.product_id)),
            inventory_transactions: after(dataset.inventory_transactions.map((t) => t.transaction_id)),
        };
    }

    /** The next change; `now` stamps the row's update time, so pass the time it will be written. */
    next(now: Date): Change {
        const table = this.rng.weighted(this.mix.tables);
        const op = this.rng.weighted(this.mix.ops);
        return (op === "delete" && this.remove(table)) || (op === "update" && this.update(table, now)) || this.insert(table, now);
    }

    private insert(table: TableName, now: Date): Change {
        const id = this.nextId[table]++;
        switch (table) {
            case "customers": {
                const row = rows.customer(this.rng, id, now);
                this.customers.set(id, { customer_id: id, registration_date: row.registration_date, country: row.country, orders: 0 });
                this.customerIds.add(id);
                return { table, op: "insert", row: { ...row } };
            }
            case "orders": {
                const buyer = this.customers.get(this.customerIds.pick(this.rng)!)!;
                const row = rows.order(this.rng, id, buyer, now);
                buyer.orders++;
                this.orders.set(id, { customer_id: buyer.customer_id, status: row.order_status });
                this.orderIds.add(id);
                return { table, op: "insert", row: { ...row } };
            }
            case "products": {
                this.productIds.add(id);
                return { table, op: "insert", row: { ...rows.product(this.rng, id, now) } };
            }
            case "inventory_transactions": {
                const productId = this.productIds.pick(this.rng) ?? 1;
                this.transactionIds.add(id);
                return { table, op: "insert", row: { ...rows.inventoryTransaction(this.rng, id, productId, this.orderIds.all(), now) } };
            }
        }
    }

    private update(table: TableName, now: Date): Change | undefined {
        const key = PRIMARY_KEYS[table];
        switch (table) {
            case "customers": {
                const id = this.customerIds.pick(this.rng);
                if (id === undefined) return undefined;
                const fresh = rows.customer(this.rng, id, now);
                return {
                    table,
                    op: "update",
                    key: { [key]: id },
                    set: {
                        customer_tier: fresh.customer_tier,
                        lifetime_value: fresh.lifetime_value,
                        phone: fresh.phone,
                        is_active: fresh.is_active,
                        last_updated: now,
                    },
                };
            }
            case "orders": {
                const id = this.orderIds.pick(this.rng);
                if (id === undefined) return undefined;
                const o = this.orders.get(id)!;
                o.status = NEXT_STATUS[o.status] ?? (this.rng.chance(0.5) ? o.status : this.rng.weighted(ORDER_STATUSES));
                return { table, op: "update", key: { [key]: id }, set: { order_status: o.status, last_updated: now } };
            }
            case "products": {
                const id = this.productIds.pick(this.rng);
                if (id === undefined) return undefined;
                const fresh = rows.product(this.rng, id, now);
                return {
                    table,
                    op: "update",
                    key: { [key]: id },
                    set: { price: fresh.price, cost: fresh.cost, quantity_in_stock: fresh.quantity_in_stock, updated_at: now },
                };
            }
            case "inventory_transactions": {
                const id = this.transactionIds.pick(this.rng);
                if (id === undefined) return undefined;
                return { table, op: "update", key: { [key]: id }, set: { notes: `reviewed ${now.toISOString().slice(0, 10)}` } };
            }
        }
    }

    private remove(table: TableName): Change | undefined {
        const key = PRIMARY_KEYS[table];
        switch (table) {
            case "customers": {
                const id = this.customerIds.pick(this.rng);
                if (id === undefined || this.customers.get(id)!.orders > 0) return undefined;
                this.customers.delete(id);
                this.customerIds.remove(id);
                return { table, op: "delete", key: { [key]: id } };
            }
            case "orders": {
                const id = this.orderIds.pick(this.rng);
                if (id === undefined) return undefined;
                this.customers.get(this.orders.get(id)!.customer_id)!.orders--;
                this.orders.delete(id);
                this.orderIds.remove(id);
                return { table, op: "delete", key: { [key]: id } };
            }
            case "products":
            case "inventory_transactions": {
                const pool = table === "products" ? this.productIds : this.transactionIds;
                const id = pool.pick(this.rng);
                if (id === undefined) return undefined;
                pool.remove(id);
                return { table, op: "delete", key: { [key]: id } };
            }
        }
    }
}
