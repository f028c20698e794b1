// A real OpenID provider for the single sign-on tests: the npm package oidc-provider, on a
// loopback port, with one client (our console). Its development login page accepts any login
// name: "ana@lacounty.gov" signs in with that address verified; "unverified:ana@lacounty.gov"
// with the same address not verified.
//
// node oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ["oidc-test-cookie-key"] },
  async findAccount(ctx, id) {
    const unverified = id.startsWith("unverified:");
    const email = unverified ? id.slice("unverified:".length) : id;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email, email_verified: !unverified, name: email.split("@")[0] };
      },
    };
  },
});

const server = provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
