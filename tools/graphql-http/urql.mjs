// urql's own client (@urql/core, default exchanges and Accept) against one URL.
//
//   node tools/graphql-http/urql.mjs http://127.0.0.1:4000/graphql '{ hello }'
//
// Prints one JSON object: the answer over POST (urql's default for this
// call) and over GET (`preferGetMethod: 'force'`). GETs carry the
// `graphql-preflight` header through `fetchOptions`, as the router's CSRF
// prevention asks of every GET.
import { Client, fetchExchange } from '@urql/core';

const [url, query] = process.argv.slice(2);
const run = async (opts) => {
  const client = new Client({ url, exchanges: [fetchExchange], ...opts });
  const r = await client.query(query, {}).toPromise();
  return { data: r.data ?? null, error: r.error ? r.error.message : null };
};
const post = await run({ preferGetMethod: false });
const get = await run({ preferGetMethod: 'force', fetchOptions: { headers: { 'graphql-preflight': '1' } } });
console.log(JSON.stringify({ post, get }));
