// Apollo Gateway in front of a composed supergraph, for bench/router_throughput.py.
//
//   node server.mjs <supergraph.graphql> <port>
//
// The supergraph is read once (`supergraphSdl`: no polling, no managed
// federation); Apollo Server's standalone HTTP server answers on
// 127.0.0.1:<port>/graphql. Usage reporting stays off (no APOLLO_KEY).
import { readFileSync } from "node:fs";

import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const [supergraphPath, portText] = process.argv.slice(2);
if (!supergraphPath || !portText) {
  console.error("usage: node server.mjs <supergraph.graphql> <port>");
  process.exit(2);
}

const gateway = new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, "utf8") });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(portText) },
});
console.log(`Apollo Gateway ready at ${url}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.stop().finally(() => process.exit(0));
  });
}
