// Compose the checked-in subgraph SDLs into the supergraph (Federation v2).
// Usage: node compose.mjs <schema-dir> <subgraph-name>=<url> ...
// Writes <schema-dir>/supergraph.graphql; exits 1 with the composer's errors.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

const [schemaDir, ...pairs] = process.argv.slice(2);
const services = pairs.map((pair) => {
  const [name, url] = pair.split("=");
  const sdl = readFileSync(join(schemaDir, `${name}.graphql`), "utf8");
  return { name, url, typeDefs: parse(sdl) };
});
const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(`composition error: ${error.message}`);
  process.exit(1);
}
writeFileSync(join(schemaDir, "supergraph.graphql"), result.supergraphSdl);
console.log(`composed ${services.length} subgraph(s) into ${join(schemaDir, "supergraph.graphql")}`);
