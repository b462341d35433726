#!/usr/bin/env node
// Runs @openzeppelin/merkle-tree for tests/integration/test_merkle_node_interop.py, which checks
// that loyalty_chain/merkle.py builds and reads the very same trees as the npm package.
//
// Reads one JSON object on stdin, writes one JSON object on stdout; run it from the repository
// root (or with NODE_PATH) so that node_modules/@openzeppelin/merkle-tree resolves.
//
//   node toolchain/merkle-interop.js build   {"values": [...], "leafEncoding": [...], "sortLeaves": true,
//                                             "multi": [indices]}
//     -> {"dump", "root", "proofs": [proof per value], "multiProof"?}
//   node toolchain/merkle-interop.js check   {"dump": {...}, "proofs"?: [...], "multiProof"?: {...},
//                                             "multi"?: [indices]}
//     -> loads the dump (StandardMerkleTree.load validates every hash), proves every value with
//        its own getProof and checks each proof, and the given ones, with the static verify:
//        {"root", "proofs", "ownProofsVerified", "givenProofsVerified", "multiProof"?, "multiVerified"?}
//
// A failure (for instance a tampered dump that load rejects) prints the error on stderr, exit 1.
//
//   node toolchain/merkle-interop.js serve
//     -> one request per line on stdin, {"command": "build"|"check", "input": {...}}, one answer
//        per line on stdout, {"result": {...}} or {"error": "Name: message"}; ends with stdin.
//        (The tests start one node for many trees: a node start costs ~0.4 s of CPU.)
'use strict';

const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', chunk => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function allProofs(tree) {
  const proofs = [];
  for (const [i] of tree.entries()) {
    proofs.push(tree.getProof(i));
  }
  return proofs;
}

function build(input) {
  const tree = StandardMerkleTree.of(input.values, input.leafEncoding, {
    sortLeaves: input.sortLeaves ?? true,
  });
  const out = { dump: tree.dump(), root: tree.root, proofs: allProofs(tree) };
  if (input.multi) {
    out.multiProof = tree.getMultiProof(input.multi);
  }
  return out;
}

function check(input) {
  const tree = StandardMerkleTree.load(input.dump);
  const encoding = input.dump.leafEncoding;
  const proofs = allProofs(tree);
  const verifyAll = given =>
    given.every((proof, i) => {
      const value = tree.at(i);
      return StandardMerkleTree.verify(tree.root, encoding, value, proof) && tree.verify(i, proof);
    });
  const out = {
    root: tree.root,
    proofs,
    ownProofsVerified: verifyAll(proofs),
    givenProofsVerified: input.proofs ? input.proofs.length === tree.length && verifyAll(input.proofs) : null,
  };
  if (input.multiProof) {
    out.multiVerified =
      StandardMerkleTree.verifyMultiProof(tree.root, encoding, input.multiProof) &&
      tree.verifyMultiProof(input.multiProof);
  }
  if (input.multi) {
    out.multiProof = tree.getMultiProof(input.multi);
  }
  return out;
}

function serve(commands) {
  const lines = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', line => {
    let answer;
    try {
      const request = JSON.parse(line);
      answer = { result: commands[request.command](request.input) };
    } catch (error) {
      answer = { error: `${error.name}: ${error.message}` };
    }
    require('fs').writeSync(1, JSON.stringify(answer) + '\n');
  });
}

async function main() {
  const command = process.argv[2];
  const commands = { build, check };
  if (command === 'serve') {
    serve(commands);
    return;
  }
  if (!(command in commands)) {
    process.stderr.write(`usage: node toolchain/merkle-interop.js build|check|serve < input.json\n`);
    process.exit(2);
  }
  const input = JSON.parse(await readStdin());
  try {
    process.stdout.write(JSON.stringify(commands[command](input)) + '\n');
  } catch (error) {
    process.stderr.write(`${error.name}: ${error.message}\n`);
    process.exit(1);
  }
}

main();
