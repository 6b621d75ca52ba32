import * as net from "net";

const API_VERSIONS = 18;

/**
 * True when a broker answers an ApiVersions request without error: the cheapest proof that the
 * listener is up and serving requests, with no Kafka client library in Node.
 */
export function brokerAnswers(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
    return new Promise((resolve, reject) => {
        const clientId = "cdc-sandbox-probe";
        const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
        let o = frame.writeInt32BE(frame.length - 4, 0);
        o = frame.writeInt16BE(API_VERSIONS, o);
        o = frame.writeInt16BE(0, o); // v0: the version every broker keeps answering
        o = frame.writeInt32BE(1, o); // correlation id
        o = frame.writeInt16BE(clientId.length, o);
        frame.write(clientId, o, "latin1");

        const socket = net.connect({ host, port });
        const received: number[] = [];
        const done = (err: Error | null, ok = false) => {
            socket.destroy();
            if (err) reject(err);
            else resolve(ok);
        };
        socket.setTimeout(timeoutMs, () => done(new Error(`no ApiVersions answer from ${host}:${port} within ${timeoutMs} ms`)));
        socket.on("error", (err) => done(err));
        socket.on("connect", () => socket.write(new Uint8Array(frame)));
        socket.on("data", (chunk: Buffer) => {
            received.push(...chunk.subarray(0, 10 - received.length));
            // size(4) + correlation id(4) + error code(2) is all we read.
            if (received.length >= 10) done(null, ((received[8] << 8) | received[9]) === 0);
        });
    });
}
