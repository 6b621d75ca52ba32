/**
 * Kubernetes resource quantities (`1Gi`, `512Mi`, `2G`, `1.5Gi`, `129e6`), read as bytes: the units a pod's
 * memory request and limit are written in.
 */
const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

export const MEMORY_QUANTITY = /^(\d+(?:\.\d+)?)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E))?$/;

/** Bytes, or undefined when `quantity` is not a memory quantity Kubernetes accepts (`m`, milli, is refused: not memory). */
export function memoryBytes(quantity: string): number | undefined {
    const m = MEMORY_QUANTITY.exec(quantity);
    if (!m) return undefined;
    const [, number, exponent, suffix = ""] = m;
    if (exponent) return Math.floor(Number(number + exponent));
    return Math.floor(Number(number) * (BINARY[suffix] ?? DECIMAL[suffix]));
}
