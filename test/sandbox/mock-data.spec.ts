import { expect } from "chai";
import { Change, ChangeStream, initialDataset, PRIMARY_KEYS, TableName } from "../../sandbox/mock-data/change-stream";
import { Rng } from "../../sandbox/mock-data/prng";
import * as rows from "../../sandbox/mock-data/rows";

const NOW = new Date("2025-10-27T08:00:00.000Z");
const YEAR_MS = 365.25 * 24 * 3600 * 1000;
const N = 20_000;

function share<T>(items: readonly T[], predicate: (x: T) => boolean): number {
    return items.filter(predicate).length / items.length;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

/** Share within ±tolerance (absolute), with the observed value in the message. */
function expectShare(actual: number, expected: number, tolerance: number, what: string): void {
    expect(Math.abs(actual - expected), `${what}: ${(actual * 100).toFixed(2)}% vs ${(expected * 100).toFixed(2)}%`).to.be.at.most(
        tolerance,
    );
}

describe("mock data (seed 004 distributions)", () => {
    const rng = new Rng(42);
    const customers = Array.from({ length: N }, (_, i) => rows.customer(rng, i + 1, NOW));
    const orders = Array.from({ length: N }, (_, i) => rows.order(rng, i + 1, customers[i], NOW));
    const products = Array.from({ length: N }, (_, i) => rows.product(rng, i + 1, NOW));

    it("is deterministic for a seed and differs between seeds", () => {
        const size = { customers: 50, ordersPerCustomer: 2, products: 20, transactionsPerProduct: 3 };
        expect(initialDataset(7, size, NOW)).to.deep.equal(initialDataset(7, size, NOW));
        expect(initialDataset(7, size, NOW).customers[0]).to.not.deep.equal(initialDataset(8, size, NOW).customers[0]);
    });

    it("draws customer tiers 40/30/20/10", () => {
        for (const [tier, pct] of [
            ["Bronze", 0.4],
            ["Silver", 0.3],
            ["Gold", 0.2],
            ["Platinum", 0.1],
        ] as const) {
            expectShare(
                share(customers, (c) => c.customer_tier === tier),
                pct,
                0.015,
                tier,
            );
        }
    });

    it("draws countries 80% USA, 10% Canada, 5% UK, 5% other", () => {
        expectShare(
            share(customers, (c) => c.country === "USA"),
            0.8,
            0.015,
            "USA",
        );
        expectShare(
            share(customers, (c) => c.country === "Canada"),
            0.1,
            0.01,
            "Canada",
        );
        expectShare(
            share(customers, (c) => c.country === "UK"),
            0.05,
            0.008,
            "UK",
        );
        expectShare(
            share(customers, (c) => !["USA", "Canada", "UK"].includes(c.country)),
            0.05,
            0.008,
            "other",
        );
    });

    it("fills phone 70%, address 80% (all address parts together) and marks 95% active", () => {
        expectShare(
            share(customers, (c) => c.phone !== null),
            0.7,
            0.015,
            "phone",
        );
        expectShare(
            share(customers, (c) => c.address_line1 !== null),
            0.8,
            0.015,
            "address",
        );
        expect(
            customers.every((c) =>
                [c.address_line1, c.city, c.state, c.postal_code].every((v) => (v === null) === (c.address_line1 === null)),
            ),
        ).to.equal(true);
        expectShare(
            share(customers, (c) => c.is_active),
            0.95,
            0.008,
            "active",
        );
    });

    it("draws lifetime value from normal(500, 300) clamped to [0, 5000]", () => {
        const ltv = customers.map((c) => c.lifetime_value);
        expect(Math.min(...ltv)).to.equal(0);
        expect(Math.max(...ltv)).to.be.at.most(5000);
        expect(median(ltv)).to.be.within(485, 515);
        // P(X < 0) for normal(500, 300) is Φ(-5/3) ≈ 4.8%: that mass sits exactly at the clamp.
        expectShare(
            share(ltv, (v) => v === 0),
            0.048,
            0.008,
            "clamped at 0",
        );
        const inOneSd = share(ltv, (v) => v >= 200 && v <= 800);
        expectShare(inOneSd, 0.683, 0.015, "within one sd");
    });

    it("registers customers uniformly over the past 5 years", () => {
        const ages = customers.map((c) => (NOW.getTime() - c.registration_date.getTime()) / YEAR_MS);
        expect(Math.min(...ages)).to.be.at.least(0);
        expect(Math.max(...ages)).to.be.at.most(5);
        expectShare(
            share(ages, (a) => a < 1),
            0.2,
            0.015,
            "registered in the last year",
        );
    });

    it("writes emails and phones that pass the seed's validation rules", () => {
        const email = /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/;
        const e164 = /^\+?[1-9]\d{1,14}$/;
        expect(customers.filter((c) => !email.test(c.email))).to.be.empty;
        expect(customers.filter((c) => c.phone !== null && !e164.test(c.phone))).to.be.empty;
        expect(new Set(customers.map((c) => c.email)).size).to.equal(N);
    });

    it("draws order statuses 30/25/20/15/10 and payment methods 50/30/15/5", () => {
        const statuses = [
            ["delivered", 0.3],
            ["shipped", 0.25],
            ["processing", 0.2],
            ["pending", 0.15],
            ["cancelled", 0.1],
        ] as const;
        for (const [s, pct] of statuses)
            expectShare(
                share(orders, (o) => o.order_status === s),
                pct,
                0.015,
                s,
            );
        expectShare(
            share(orders, (o) => o.payment_method === "credit_card"),
            0.5,
            0.015,
            "credit_card",
        );
        expectShare(
            share(orders, (o) => o.payment_method === "paypal"),
            0.3,
            0.015,
            "paypal",
        );
        expectShare(
            share(orders, (o) => o.payment_method === "debit_card"),
            0.15,
            0.01,
            "debit_card",
        );
        expectShare(
            share(orders, (o) => !["credit_card", "paypal", "debit_card"].includes(o.payment_method!)),
            0.05,
            0.008,
            "other",
        );
    });

    it("draws order totals from normal(150, 100) clamped to [10, 2000], placed after registration and within 2 years", () => {
        const totals = orders.map((o) => o.total_amount);
        expect(Math.min(...totals)).to.equal(10);
        expect(Math.max(...totals)).to.be.at.most(2000);
        expect(median(totals)).to.be.within(145, 155);
        orders.forEach((o, i) => {
            expect(o.order_date.getTime()).to.be.at.least(customers[i].registration_date.getTime());
            expect(NOW.getTime() - o.order_date.getTime()).to.be.at.most(2 * YEAR_MS);
        });
    });

    it("ships orders to a JSON address in the buyer's country", () => {
        orders.forEach((o, i) => {
            expect(o.shipping_address).to.have.all.keys("street", "city", "state", "postal_code", "country");
            expect(o.shipping_address!.country).to.equal(customers[i].country);
        });
    });

    it("draws product categories 25/20/15/15/10/15 with category price ranges and cost 60–70% of price", () => {
        const cats = [
            ["Electronics", 0.25],
            ["Clothing", 0.2],
            ["Home & Garden", 0.15],
            ["Sports", 0.15],
            ["Books", 0.1],
        ] as const;
        for (const [c, pct] of cats)
            expectShare(
                share(products, (p) => p.category === c),
                pct,
                0.015,
                c,
            );
        expectShare(
            share(products, (p) => !cats.some(([c]) => c === p.category)),
            0.15,
            0.015,
            "other",
        );
        for (const p of products) {
            if (p.category === "Electronics") expect(p.price).to.be.within(50, 2000);
            if (p.category === "Books") expect(p.price).to.be.within(10, 50);
            expect(p.cost).to.be.above(0).and.at.most(p.price);
            expect(p.cost / p.price).to.be.within(0.595, 0.705);
            expect(p.quantity_in_stock).to.be.within(0, 500);
        }
        expectShare(
            share(products, (p) => p.is_discontinued),
            0.1,
            0.01,
            "discontinued",
        );
        expect(new Set(products.map((p) => p.sku)).size).to.equal(N);
    });
});

describe("change stream", () => {
    const size = { customers: 200, ordersPerCustomer: 1.5, products: 100, transactionsPerProduct: 2 };

    function run(seed: number, count: number): Change[] {
        const stream = new ChangeStream(seed, initialDataset(seed, size, NOW));
        return Array.from({ length: count }, (_, i) => stream.next(new Date(NOW.getTime() + i)));
    }

    it("is deterministic for a seed", () => {
        expect(run(3, 500)).to.deep.equal(run(3, 500));
    });

    it("mixes inserts, updates and deletes over all four tables", () => {
        const changes = run(5, 5000);
        for (const op of ["insert", "update", "delete"])
            expect(
                share(changes, (c) => c.op === op),
                op,
            ).to.be.above(0.08);
        for (const t of ["customers", "orders", "products", "inventory_transactions"])
            expect(
                share(changes, (c) => c.table === t),
                t,
            ).to.be.above(0.1);
    });

    it("only touches live rows, and never deletes a customer who still has orders", () => {
        const dataset = initialDataset(9, size, NOW);
        const live: Record<TableName, Set<number>> = {
            customers: new Set(dataset.customers.map((c) => c.customer_id)),
            orders: new Set(dataset.orders.map((o) => o.order_id)),
            products: new Set(dataset.products.map((p) => p.product_id)),
            inventory_transactions: new Set(dataset.inventory_transactions.map((t) => t.transaction_id)),
        };
        const ordersOf = new Map<number, number>();
        const buyerOf = new Map<number, number>();
        for (const o of dataset.orders) {
            ordersOf.set(o.customer_id, (ordersOf.get(o.customer_id) ?? 0) + 1);
            buyerOf.set(o.order_id, o.customer_id);
        }
        const stream = new ChangeStream(9, dataset);
        for (let i = 0; i < 5000; i++) {
            const c = stream.next(NOW);
            const pk = PRIMARY_KEYS[c.table];
            if (c.op === "insert") {
                const id = c.row[pk] as number;
                expect(live[c.table].has(id), `${c.table} ${id} inserted twice`).to.equal(false);
                live[c.table].add(id);
                if (c.table === "orders") {
                    const buyer = c.row.customer_id as number;
                    expect(live.customers.has(buyer), `order for deleted customer ${buyer}`).to.equal(true);
                    ordersOf.set(buyer, (ordersOf.get(buyer) ?? 0) + 1);
                    buyerOf.set(id, buyer);
                }
                continue;
            }
            const id = c.key[pk] as number;
            expect(live[c.table].has(id), `${c.op} of missing ${c.table} ${id}`).to.equal(true);
            if (c.op === "delete") {
                if (c.table === "customers") expect(ordersOf.get(id) ?? 0, `customer ${id} deleted with orders`).to.equal(0);
                if (c.table === "orders") ordersOf.set(buyerOf.get(id)!, ordersOf.get(buyerOf.get(id)!)! - 1);
                live[c.table].delete(id);
            }
        }
    });
});
