/**
 * A small seeded generator (mulberry32): the same seed gives the same data on every machine and
 * Node version, which Math.random cannot promise and tests need.
 */
export class Rng {
    private state: number;

    constructor(seed: number) {
        this.state = seed >>> 0;
    }

    /** Uniform in [0, 1). */
    next(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let t = this.state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }

    /** Integer in [min, max], both inclusive. */
    int(min: number, max: number): number {
        return min + Math.floor(this.next() * (max - min + 1));
    }

    uniform(min: number, max: number): number {
        return min + this.next() * (max - min);
    }

    chance(p: number): boolean {
        return this.next() < p;
    }

    pick<T>(items: readonly T[]): T {
        return items[Math.floor(this.next() * items.length)];
    }

    /** One value by relative weight: `[["Bronze", 40], ["Silver", 30], ...]`. */
    weighted<T>(choices: readonly (readonly [T, number])[]): T {
        const total = choices.reduce((sum, [, w]) => sum + w, 0);
        let r = this.next() * total;
        for (const [value, w] of choices) {
            r -= w;
            if (r < 0) return value;
        }
        return choices[choices.length - 1][0];
    }

    /** Box–Muller; one of the pair is discarded to keep the sequence simple to reason about. */
    normal(mean: number, sd: number): number {
        const u = 1 - this.next();
        const v = this.next();
        return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}

export const clamp = (x: number, min: number, max: number): number => Math.min(max, Math.max(min, x));
export const cents = (x: number): number => Math.round(x * 100) / 100;
