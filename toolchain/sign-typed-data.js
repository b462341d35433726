#!/usr/bin/env node
// Signs EIP-712 typed data with ethers v6, an implementation independent of ours, for
// tests/integration/test_gasless_interop.py: a signature made here over the JSON that
// loyalty_chain.gasless builds must be accepted by PerkCatalog and equal ours byte for byte.
//
// Reads one JSON object on stdin, writes one JSON object on stdout; run it from the repository
// root (or with NODE_PATH) so that node_modules/ethers resolves.
//
//   node toolchain/sign-typed-data.js  < {"privateKey": "0x…", "typedData": {types, primaryType, domain, message}}
//     -> {"signature": "0x…65 bytes", "digest": "0x…32 bytes", "signer": "0x…address"}
//
// The typed data is the eth_signTypedData_v4 JSON a dapp hands MetaMask; ethers takes the domain,
// the types WITHOUT EIP712Domain (it derives that one from the domain) and the message separately,
// exactly as a dapp calls `signer.signTypedData(domain, types, message)`.
// A failure prints the error on stderr, exit 1. The key is never printed.
'use strict';

const { Wallet, TypedDataEncoder } = require('ethers');

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', chunk => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

async function main() {
  const input = JSON.parse(await readStdin());
  const { domain, types, message, primaryType } = input.typedData;
  const structTypes = { ...types };
  delete structTypes.EIP712Domain;
  const encoder = TypedDataEncoder.from(structTypes);
  if (primaryType !== undefined && encoder.primaryType !== primaryType) {
    throw new Error(`ethers infers primary type ${encoder.primaryType}, the JSON says ${primaryType}`);
  }
  const wallet = new Wallet(input.privateKey);
  const signature = await wallet.signTypedData(domain, structTypes, message);
  const digest = TypedDataEncoder.hash(domain, structTypes, message);
  process.stdout.write(JSON.stringify({ signature, digest, signer: wallet.address }) + '\n');
}

main().catch(error => {
  process.stderr.write(`${error.name}: ${error.message}\n`);
  process.exit(1);
});
