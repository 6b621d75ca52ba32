/** The distributions of seed 004 §5, as data: the generators read them and the tests check against them. */

export const CUSTOMER_TIERS = [
    ["Bronze", 40],
    ["Silver", 30],
    ["Gold", 20],
    ["Platinum", 10],
] as const;

/** "other" in the seed: spread over a few further countries. */
export const COUNTRIES = [
    ["USA", 80],
    ["Canada", 10],
    ["UK", 5],
    ["Germany", 1.25],
    ["France", 1.25],
    ["Australia", 1.25],
    ["Mexico", 1.25],
] as const;

export const CUSTOMER_ACTIVE_RATE = 0.95;
export const PHONE_FILL_RATE = 0.7;
export const ADDRESS_FILL_RATE = 0.8;
export const LIFETIME_VALUE = { mean: 500, sd: 300, min: 0, max: 5000 } as const;
export const REGISTRATION_SPAN_YEARS = 5;

export const ORDER_STATUSES = [
    ["delivered", 30],
    ["shipped", 25],
    ["processing", 20],
    ["pending", 15],
    ["cancelled", 10],
] as const;

export const PAYMENT_METHODS = [
    ["credit_card", 50],
    ["paypal", 30],
    ["debit_card", 15],
    ["bank_transfer", 2.5],
    ["gift_card", 2.5],
] as const;

export const ORDER_TOTAL = { mean: 150, sd: 100, min: 10, max: 2000 } as const;
export const ORDER_SPAN_YEARS = 2;
export const ORDER_NOTES_RATE = 0.3;

/** Category weights and price ranges (seed: Electronics $50–$2000, Books $10–$50, the rest by judgement). */
export const PRODUCT_CATEGORIES = [
    { name: "Electronics", weight: 25, price: [50, 2000], code: "ELEC" },
    { name: "Clothing", weight: 20, price: [10, 200], code: "CLTH" },
    { name: "Home & Garden", weight: 15, price: [15, 500], code: "HOME" },
    { name: "Sports", weight: 15, price: [10, 800], code: "SPRT" },
    { name: "Books", weight: 10, price: [10, 50], code: "BOOK" },
    { name: "Toys", weight: 7.5, price: [5, 150], code: "TOYS" },
    { name: "Beauty", weight: 7.5, price: [5, 120], code: "BEAU" },
] as const;

export const COST_SHARE_OF_PRICE = [0.6, 0.7] as const;
export const STOCK_RANGE = [0, 500] as const;
export const DISCONTINUED_RATE = 0.1;
export const SUPPLIER_FILL_RATE = 0.9;

/** Not in the seed: sales dominate, as in a shop's movement log. */
export const TRANSACTION_TYPES = [
    ["sale", 50],
    ["purchase", 30],
    ["adjustment", 10],
    ["return", 10],
] as const;
