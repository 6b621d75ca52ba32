/**
 * TLS settings from database URL parameters (reconciler/tls.ts): which connection attempts each mode makes, what is
 * verified against which CA, and the errors for parameters the reconciler would otherwise ignore. The same modes
 * against real servers: test/integration/tls.spec.ts.
 */
import { expect } from "chai";
import { connect } from "../../reconciler/db";
import { explainTlsFailure, mssqlTls, mysqlTls, postgresTls, TlsPlan, withoutTlsParams } from "../../reconciler/tls";
import { TLS_MODES, VERIFYING_SSL_MODES } from "../../model/tls";

const q = (query: string) => new URLSearchParams(query);
const attempts = (plan: TlsPlan) => plan.attempts;
const failure = (f: () => unknown) => {
    try {
        f();
    } catch (e) {
        return (e as Error).message;
    }
    return "no error";
};

const PLAIN = { tls: false };
const unverified = { tls: true, verify: "none", ca: null };

describe("reconciler TLS settings from URL parameters", () => {
    it("decides the verifying modes once, from the table of what each mode does", () => {
        expect(VERIFYING_SSL_MODES).to.deep.equal({
            postgres: ["verify-ca", "verify-full"],
            mysql: ["verify_ca", "verify_identity"],
            mariadb: ["verify-ca", "verify-full"],
        });
        for (const [family, modes] of Object.entries(TLS_MODES)) {
            for (const name of VERIFYING_SSL_MODES[family as keyof typeof TLS_MODES])
                expect(modes[name], `${family} ${name}`).to.deep.include({ negotiation: "always" });
        }
    });

    describe("PostgreSQL, as libpq reads sslmode and sslrootcert", () => {
        it("tries TLS then plaintext without sslmode (libpq's prefer), and the fallbacks in libpq's order", () => {
            expect(attempts(postgresTls(q("")))).to.deep.equal([unverified, PLAIN]);
            expect(postgresTls(q("")).described).to.equal("no sslmode (libpq's default, prefer)");
            expect(attempts(postgresTls(q("sslmode=prefer")))).to.deep.equal([unverified, PLAIN]);
            expect(attempts(postgresTls(q("sslmode=allow")))).to.deep.equal([PLAIN, unverified]);
            expect(attempts(postgresTls(q("sslmode=disable")))).to.deep.equal([PLAIN]);
        });

        it("never falls back to plaintext from require or the verify modes", () => {
            expect(attempts(postgresTls(q("sslmode=require")))).to.deep.equal([unverified]);
            expect(attempts(postgresTls(q("sslmode=verify-ca&sslrootcert=/ca.crt")))).to.deep.equal([
                { tls: true, verify: "ca", ca: "/ca.crt" },
            ]);
            expect(attempts(postgresTls(q("sslmode=verify-full&sslrootcert=/ca.crt")))).to.deep.equal([
                { tls: true, verify: "full", ca: "/ca.crt" },
            ]);
            expect(postgresTls(q("sslmode=verify-full&sslrootcert=/ca.crt")).described).to.equal("sslmode=verify-full sslrootcert=/ca.crt");
        });

        it("verifies the chain in require mode when given a root certificate, as libpq and pgjdbc do", () => {
            expect(attempts(postgresTls(q("sslmode=require&sslrootcert=/ca.crt")))).to.deep.equal([
                { tls: true, verify: "ca", ca: "/ca.crt" },
            ]);
        });

        it("takes sslrootcert=system only with verify-full", () => {
            expect(attempts(postgresTls(q("sslmode=verify-full&sslrootcert=system")))).to.deep.equal([
                { tls: true, verify: "full", ca: "system" },
            ]);
            expect(failure(() => postgresTls(q("sslmode=verify-ca&sslrootcert=system")))).to.match(
                /^sslrootcert=system trusts every public CA, so it needs sslmode=verify-full \(not verify-ca\)/,
            );
        });

        it("refuses a verify mode without its CA, a CA no mode reads, unknown modes and repeats", () => {
            expect(failure(() => postgresTls(q("sslmode=verify-full")))).to.equal(
                "sslmode=verify-full verifies the server certificate and needs the CA that signed it: add sslrootcert=<PEM file>",
            );
            expect(failure(() => postgresTls(q("sslmode=disable&sslrootcert=/ca.crt")))).to.equal(
                "sslrootcert with sslmode=disable, which never uses TLS, is contradictory; remove one of them",
            );
            expect(failure(() => postgresTls(q("sslmode=prefer&sslrootcert=/ca.crt")))).to.equal(
                "sslrootcert is not used with sslmode=prefer, which does not verify the server certificate; use a verify mode or remove sslrootcert",
            );
            expect(failure(() => postgresTls(q("sslmode=no-verify")))).to.equal(
                'unknown sslmode "no-verify"; PostgreSQL takes disable, allow, prefer, require, verify-ca, verify-full',
            );
            expect(failure(() => postgresTls(q("sslmode=constructor")))).to.match(/^unknown sslmode "constructor"/);
            expect(failure(() => postgresTls(q("sslmode=verify-full&sslmode=disable&sslrootcert=/ca.crt")))).to.equal(
                "the database URL sets sslmode more than once (verify-full, disable); give it once",
            );
        });

        it("refuses TLS parameters it does not implement instead of ignoring them, and leaves the others to pg", () => {
            for (const param of ["ssl=true", "sslcert=/c.pem", "sslkey=/k.pem", "sslnegotiation=direct", "sslcompression=1"]) {
                expect(
                    failure(() => postgresTls(q(`sslmode=require&${param}`))),
                    param,
                ).to.match(/^unsupported TLS parameter "ssl\w*" in the database URL; the reconciler understands sslmode, sslrootcert$/);
            }
            expect(attempts(postgresTls(q("sslmode=disable&application_name=x&connect_timeout=5")))).to.deep.equal([PLAIN]);
            expect(
                withoutTlsParams("postgres://u:p@h:5432/d?sslmode=verify-full&sslrootcert=/ca.crt&connect_timeout=5", [
                    "sslmode",
                    "sslrootcert",
                ]),
            ).to.equal("postgres://u:p@h:5432/d?connect_timeout=5");
        });
    });

    describe("MySQL and MariaDB", () => {
        it("takes MySQL's names in any case and Debezium's MariaDB names, defaulting to the MySQL client's preferred", () => {
            expect(attempts(mysqlTls(q("")))).to.deep.equal([unverified, PLAIN]);
            expect(attempts(mysqlTls(q("ssl-mode=DISABLED")))).to.deep.equal([PLAIN]);
            expect(attempts(mysqlTls(q("ssl-mode=disable")))).to.deep.equal([PLAIN]);
            expect(attempts(mysqlTls(q("ssl-mode=REQUIRED")))).to.deep.equal([unverified]);
            expect(attempts(mysqlTls(q("ssl-mode=trust")))).to.deep.equal([unverified]);
            for (const mode of ["VERIFY_CA", "verify_ca", "verify-ca"]) {
                expect(attempts(mysqlTls(q(`ssl-mode=${mode}&ssl-ca=/ca.crt`))), mode).to.deep.equal([
                    { tls: true, verify: "ca", ca: "/ca.crt" },
                ]);
            }
            for (const mode of ["VERIFY_IDENTITY", "verify_identity", "verify-full"]) {
                expect(attempts(mysqlTls(q(`sslmode=${mode}&ssl-ca=/ca.crt`))), mode).to.deep.equal([
                    { tls: true, verify: "full", ca: "/ca.crt" },
                ]);
            }
        });

        it("refuses contradictory, unknown and unsupported settings", () => {
            expect(failure(() => mysqlTls(q("ssl-mode=verify-full&sslmode=verify-full&ssl-ca=/ca.crt")))).to.equal(
                "the database URL sets both ssl-mode and sslmode; give one",
            );
            expect(failure(() => mysqlTls(q("ssl-mode=verify_identity")))).to.equal(
                "ssl-mode=verify_identity verifies the server certificate and needs the CA that signed it: add ssl-ca=<PEM file>",
            );
            expect(failure(() => mysqlTls(q("ssl-mode=REQUIRED&ssl-ca=/ca.crt")))).to.equal(
                "ssl-ca is not used with ssl-mode=REQUIRED, which does not verify the server certificate; use a verify mode or remove ssl-ca",
            );
            expect(failure(() => mysqlTls(q("ssl-mode=disabled&ssl-ca=/ca.crt")))).to.equal(
                "ssl-ca with ssl-mode=disabled, which never uses TLS, is contradictory; remove one of them",
            );
            expect(failure(() => mysqlTls(q("ssl-mode=verify-full&ssl-ca=system")))).to.match(/^ssl-ca must name a PEM file/);
            expect(failure(() => mysqlTls(q("ssl-mode=toString")))).to.match(/^unknown ssl-mode "toString"/);
            expect(failure(() => mysqlTls(q("ssl-mode=on")))).to.equal(
                'unknown ssl-mode "on"; MySQL takes disabled, preferred, required, verify_ca, verify_identity (any case), Debezium\'s MariaDB connector disable, trust, verify-ca, verify-full',
            );
            for (const param of ["ssl=true", "useSSL=true", "ssl-cert=/c.pem", "verifyServerCertificate=true", "tls-version=TLSv1.3"]) {
                expect(
                    failure(() => mysqlTls(q(param))),
                    param,
                ).to.match(
                    /^unsupported TLS parameter "[\w-]+" in the database URL; the reconciler understands ssl-mode, sslmode, ssl-ca$/,
                );
            }
        });

        it("refuses verify-full against an IP address, which mysql2 would check as if the host were localhost", async () => {
            const message = await connect("mysql://u:p@10.0.0.1:3306/app?ssl-mode=verify-full&ssl-ca=/ca.crt").then(
                () => "connected",
                (e: Error) => e.message,
            );
            expect(message).to.equal(
                "TLS with ssl-mode=verify-full ssl-ca=/ca.crt: the MySQL driver cannot verify a certificate against an IP address (10.0.0.1); use the host name the certificate names",
            );
        });
    });

    describe("SQL Server (generated settings only: no SQL Server runs in these tests)", () => {
        it("encrypts and verifies unless the URL says otherwise", () => {
            expect(mssqlTls(q(""))).to.deep.equal({ encrypt: true, trustServerCertificate: false });
            expect(mssqlTls(q("encrypt=true&trustServerCertificate=false"))).to.deep.equal({
                encrypt: true,
                trustServerCertificate: false,
            });
            expect(mssqlTls(q("encrypt=strict"))).to.deep.equal({ encrypt: "strict", trustServerCertificate: false });
            expect(mssqlTls(q("encrypt=false&trustServerCertificate=true"))).to.deep.equal({
                encrypt: false,
                trustServerCertificate: true,
            });
        });

        it("refuses values and parameters it would not apply", () => {
            expect(failure(() => mssqlTls(q("encrypt=yes")))).to.equal("encrypt=yes in the database URL; use true, false or strict");
            expect(failure(() => mssqlTls(q("trustServerCertificate=1")))).to.equal(
                "trustServerCertificate=1 in the database URL; use true or false",
            );
            for (const param of ["trustservercertificate=true", "hostNameInCertificate=db", "trustStore=/ts.jks", "ssl=true"]) {
                expect(
                    failure(() => mssqlTls(q(param))),
                    param,
                ).to.match(
                    /^unsupported TLS parameter "\w+" in the database URL; the reconciler understands encrypt, trustServerCertificate$/,
                );
            }
        });
    });

    describe("driver errors, said in terms of the URL", () => {
        const verified = postgresTls(q("sslmode=verify-full&sslrootcert=/ca.crt"));
        const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

        it("names the CA a certificate did not chain to, and the host it did not name", () => {
            expect(
                explainTlsFailure(
                    error("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
                    verified,
                    verified.attempts[0],
                ).message,
            ).to.equal(
                "TLS with sslmode=verify-full sslrootcert=/ca.crt: the server's certificate is not signed by the CA in /ca.crt (unable to verify the first certificate)",
            );
            expect(
                explainTlsFailure(
                    error("self-signed certificate in certificate chain", "HANDSHAKE_SSL_ERROR"),
                    verified,
                    verified.attempts[0],
                ).message,
            ).to.match(/is not signed by the CA in \/ca\.crt/);
            expect(
                explainTlsFailure(
                    error(
                        "Hostname/IP does not match certificate's altnames: IP: 10.0.0.2 is not in the cert's list: 10.0.0.1",
                        "ERR_TLS_CERT_ALTNAME_INVALID",
                    ),
                    verified,
                    verified.attempts[0],
                ).message,
            ).to.match(
                /^TLS with sslmode=verify-full sslrootcert=\/ca\.crt: the server's certificate does not name the host in the URL \(Hostname\/IP/,
            );
        });

        it("says when a server without TLS is refused for want of a plaintext fallback", () => {
            expect(
                explainTlsFailure(error("The server does not support SSL connections"), verified, verified.attempts[0]).message,
            ).to.equal(
                "TLS with sslmode=verify-full sslrootcert=/ca.crt: the server does not offer TLS, and these settings allow no plaintext fallback (The server does not support SSL connections)",
            );
            const mysqlVerified = mysqlTls(q("ssl-mode=verify_identity&ssl-ca=/ca.crt"));
            expect(
                explainTlsFailure(
                    error("Server does not support secure connection", "HANDSHAKE_NO_SSL_SUPPORT"),
                    mysqlVerified,
                    mysqlVerified.attempts[0],
                ).message,
            ).to.match(/allow no plaintext fallback/);
        });

        it("leaves other errors, and plaintext attempts, as the driver said them", () => {
            const refused = error("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED");
            expect(explainTlsFailure(refused, verified, verified.attempts[0])).to.equal(refused);
            const disabled = postgresTls(q("sslmode=disable"));
            expect(
                explainTlsFailure(error("The server does not support SSL connections"), disabled, disabled.attempts[0]).message,
            ).to.equal("The server does not support SSL connections");
        });
    });
});
