/**
 * Seed-004 rows, one pure function per table: (rng, id, now) → row. Timestamps are UTC `Date`s; the
 * database writers decide how each engine stores them.
 */
import { cents, clamp, Rng } from "./prng";
import * as D from "./distributions";

export interface Customer {
    customer_id: number;
    email: string;
    first_name: string;
    last_name: string;
    phone: string | null;
    address_line1: string | null;
    city: string | null;
    state: string | null;
    postal_code: string | null;
    country: string;
    registration_date: Date;
    last_updated: Date;
    is_active: boolean;
    customer_tier: string;
    lifetime_value: number;
}

export interface ShippingAddress {
    street: string;
    city: string;
    state: string;
    postal_code: string;
    country: string;
}

export interface Order {
    order_id: number;
    customer_id: number;
    order_date: Date;
    order_status: string;
    total_amount: number;
    shipping_address: ShippingAddress | null;
    payment_method: string | null;
    order_notes: string | null;
    last_updated: Date;
}

export interface Product {
    product_id: number;
    sku: string;
    product_name: string;
    description: string | null;
    category: string;
    price: number;
    cost: number;
    quantity_in_stock: number;
    supplier_id: number | null;
    created_at: Date;
    updated_at: Date;
    is_discontinued: boolean;
}

export interface InventoryTransaction {
    transaction_id: number;
    product_id: number;
    transaction_type: "purchase" | "sale" | "adjustment" | "return";
    quantity_change: number;
    transaction_date: Date;
    reference_order_id: number | null;
    notes: string | null;
    created_at: Date;
}

const FIRST_NAMES = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "Wei",
    "Aisha",
    "Carlos",
    "Sofia",
    "Yuki",
    "Olga",
    "Kwame",
    "Priya",
    "Liam",
    "Emma",
];
const LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Chen",
    "Okafor",
    "Novak",
    "Tanaka",
    "Singh",
    "Dubois",
    "Müller",
    "O'Brien",
    "Rossi",
    "Kim",
];
const STREETS = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd", "Lake Rd", "Hill St", "Park Ave"];
const PLACES: Record<string, readonly (readonly [string, string, string])[]> = {
    USA: [
        ["Springfield", "IL", "62701"],
        ["Austin", "TX", "73301"],
        ["Portland", "OR", "97201"],
        ["Boston", "MA", "02108"],
        ["Denver", "CO", "80202"],
    ],
    Canada: [
        ["Toronto", "ON", "M5H 2N2"],
        ["Vancouver", "BC", "V6B 1A1"],
        ["Montreal", "QC", "H2Y 1C6"],
    ],
    UK: [
        ["London", "ENG", "SW1A 1AA"],
        ["Manchester", "ENG", "M1 1AE"],
        ["Edinburgh", "SCT", "EH1 1YZ"],
    ],
    Germany: [
        ["Berlin", "BE", "10115"],
        ["Munich", "BY", "80331"],
    ],
    France: [
        ["Paris", "IDF", "75001"],
        ["Lyon", "ARA", "69001"],
    ],
    Australia: [
        ["Sydney", "NSW", "2000"],
        ["Melbourne", "VIC", "3000"],
    ],
    Mexico: [
        ["Mexico City", "CMX", "01000"],
        ["Guadalajara", "JAL", "44100"],
    ],
};
/** E.164 country calling codes, so every phone matches the seed's `^\+?[1-9]\d{1,14}$` rule. */
const CALLING_CODES: Record<string, string> = {
    USA: "1",
    Canada: "1",
    UK: "44",
    Germany: "49",
    France: "33",
    Australia: "61",
    Mexico: "52",
};
const ORDER_NOTES = ["Please leave at front door", "Gift wrap, please", "Call before delivery", "Deliver after 5pm", "Fragile items"];
const ADJECTIVES = ["Classic", "Pro", "Eco", "Ultra", "Compact", "Deluxe", "Smart", "Travel"];
const NOUNS: Record<string, readonly string[]> = {
    Electronics: ["Laptop", "Headphones", "Monitor", "Tablet", "Camera"],
    Clothing: ["Jacket", "T-Shirt", "Jeans", "Sneakers", "Scarf"],
    "Home & Garden": ["Lamp", "Planter", "Cookware Set", "Rug", "Hose"],
    Sports: ["Yoga Mat", "Bicycle Helmet", "Tennis Racket", "Dumbbells", "Running Shoes"],
    Books: ["Novel", "Cookbook", "Travel Guide", "Biography", "Atlas"],
    Toys: ["Puzzle", "Building Blocks", "Board Game", "Plush Bear", "Kite"],
    Beauty: ["Face Cream", "Shampoo", "Perfume", "Lip Balm", "Nail Kit"],
};

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
const ms = (d: Date) => d.getTime();

function pastDate(rng: Rng, now: Date, years: number, notBefore?: Date): Date {
    const from = Math.max(ms(now) - years * YEAR_MS, notBefore ? ms(notBefore) : -Infinity);
    // Whole milliseconds: every engine in the pipeline round-trips them exactly.
    return new Date(Math.floor(rng.uniform(from, ms(now))));
}

function address(rng: Rng, country: string): ShippingAddress {
    const [city, state, postal_code] = rng.pick(PLACES[country]);
    return { street: `${rng.int(1, 9999)} ${rng.pick(STREETS)}`, city, state, postal_code, country };
}

export function customer(rng: Rng, id: number, now: Date): Customer {
    const first_name = rng.pick(FIRST_NAMES);
    const last_name = rng.pick(LAST_NAMES);
    const country = rng.weighted(D.COUNTRIES);
    const addr = rng.chance(D.ADDRESS_FILL_RATE) ? address(rng, country) : null;
    const phone = rng.chance(D.PHONE_FILL_RATE) ? `+${CALLING_CODES[country]}${rng.int(200_000_0000, 999_999_9999)}` : null;
    const ltv = D.LIFETIME_VALUE;
    return {
        customer_id: id,
        email: `${first_name}.${last_name}.${id}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, ""),
        first_name,
        last_name,
        phone,
        address_line1: addr?.street ?? null,
        city: addr?.city ?? null,
        state: addr?.state ?? null,
        postal_code: addr?.postal_code ?? null,
        country,
        registration_date: pastDate(rng, now, D.REGISTRATION_SPAN_YEARS),
        last_updated: now,
        is_active: rng.chance(D.CUSTOMER_ACTIVE_RATE),
        customer_tier: rng.weighted(D.CUSTOMER_TIERS),
        lifetime_value: cents(clamp(rng.normal(ltv.mean, ltv.sd), ltv.min, ltv.max)),
    };
}

/** An order placed by `buyer`, never before the buyer registered (seed §8.1). */
export function order(rng: Rng, id: number, buyer: Pick<Customer, "customer_id" | "registration_date" | "country">, now: Date): Order {
    const t = D.ORDER_TOTAL;
    return {
        order_id: id,
        customer_id: buyer.customer_id,
        order_date: pastDate(rng, now, D.ORDER_SPAN_YEARS, buyer.registration_date),
        order_status: rng.weighted(D.ORDER_STATUSES),
        total_amount: cents(clamp(rng.normal(t.mean, t.sd), t.min, t.max)),
        shipping_address: address(rng, buyer.country),
        payment_method: rng.weighted(D.PAYMENT_METHODS),
        order_notes: rng.chance(D.ORDER_NOTES_RATE) ? rng.pick(ORDER_NOTES) : null,
        last_updated: now,
    };
}

export function product(rng: Rng, id: number, now: Date): Product {
    const cat = rng.weighted(D.PRODUCT_CATEGORIES.map((c) => [c, c.weight] as const));
    const price = cents(rng.uniform(cat.price[0], cat.price[1]));
    const noun = rng.pick(NOUNS[cat.name]);
    return {
        product_id: id,
        sku: `${cat.code}-${String(id).padStart(6, "0")}`,
        product_name: `${rng.pick(ADJECTIVES)} ${noun}`,
        description: rng.chance(0.8) ? `${noun} for everyday use, model ${rng.int(100, 999)}` : null,
        category: cat.name,
        price,
        cost: Math.min(price, Math.max(0.01, cents(price * rng.uniform(D.COST_SHARE_OF_PRICE[0], D.COST_SHARE_OF_PRICE[1])))),
        quantity_in_stock: rng.int(D.STOCK_RANGE[0], D.STOCK_RANGE[1]),
        supplier_id: rng.chance(D.SUPPLIER_FILL_RATE) ? rng.int(1, 200) : null,
        created_at: pastDate(rng, now, 2),
        updated_at: now,
        is_discontinued: rng.chance(D.DISCONTINUED_RATE),
    };
}

export function inventoryTransaction(
    rng: Rng,
    id: number,
    productId: number,
    orderIds: readonly number[],
    now: Date,
): InventoryTransaction {
    const type = rng.weighted(D.TRANSACTION_TYPES);
    const quantity_change =
        type === "purchase"
            ? rng.int(10, 200)
            : type === "sale"
              ? -rng.int(1, 10)
              : type === "return"
                ? rng.int(1, 5)
                : rng.int(-20, 20) || 1;
    const byOrder = (type === "sale" || type === "return") && orderIds.length > 0;
    return {
        transaction_id: id,
        product_id: productId,
        transaction_type: type,
        quantity_change,
        transaction_date: now,
        reference_order_id: byOrder ? rng.pick(orderIds) : null,
        notes: type === "adjustment" ? rng.pick(["cycle count", "damaged", "found in back room"]) : null,
        created_at: now,
    };
}
