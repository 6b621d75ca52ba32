import { expect } from "chai";
import * as http from "http";
import type { AddressInfo } from "net";
import { ConnectClient } from "../../ops/connect-client";

describe("Connect REST client: offsets", () => {
    let server: http.Server;
    let body: unknown;
    let client: ConnectClient;

    before(async () => {
        server = http.createServer((req, res) => {
            res.setHeader("Content-Type", "application/json");
            res.end(JSON.stringify(req.url === "/connectors/shop-source/offsets" ? body : {}));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        client = new ConnectClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
    after(() => server.close());

    it("leaves out a partition Connect still lists with a null offset after a reset: it has no committed offset", async () => {
        // What Kafka 4.3.1 answered right after DELETE /connectors/shop-source/offsets in the sandbox e2e run of 02:00 UTC.
        body = { offsets: [{ partition: { server: "shop" }, offset: null }] };
        expect(await client.offsets("shop-source")).to.deep.equal([]);
        const committed = { partition: { server: "shop" }, offset: { lsn: 123, txId: 7 } };
        body = { offsets: [committed, { partition: { server: "other" }, offset: null }] };
        expect(await client.offsets("shop-source")).to.deep.equal([committed]);
    });
});
