/**
 * A transaction as the bytes its block's transactions trie holds, rebuilt
 * from a JSON-RPC transaction object: the RLP list of a legacy transaction,
 * or for typed ones (EIP-2718) the type byte followed by the RLP list of its
 * type: EIP-2930 (1), EIP-1559 (2), EIP-4844 (3, without the blob sidecar, as
 * blocks hold it) and EIP-7702 (4). keccak-256 of the envelope is the
 * transaction's hash.
 */
import { RLP, type Input } from "@ethereumjs/rlp";
import { array, data, fixed, isAbsent, object, quantity, recipient, type RpcObject, smallInteger, UnreadableFieldError } from "./rpc-values";

/** The transaction types Ethereum defines; a network's own (an L2's deposits) have no envelope here. */
export const KNOWN_TRANSACTION_TYPES = [0, 1, 2, 3, 4] as const;

/** The type of a transaction; a missing type is a legacy one (nodes before EIP-2718). */
export function transactionType(tx: RpcObject, where: string): number {
  return isAbsent(tx.type) ? 0 : smallInteger(tx, "type", where);
}

/** The signed envelope of `tx`; `where` ("transactions[3].") prefixes the names of fields that do not parse. */
export function encodeTransaction(tx: RpcObject, where: string): Uint8Array {
  const type = transactionType(tx, where);
  switch (type) {
    case 0:
      // v carries the parity (27/28) or, with EIP-155, the chain id as well: it is encoded as the node sent it.
      return RLP.encode([...gasPriced(tx, where), quantity(tx, "v", where), quantity(tx, "r", where), quantity(tx, "s", where)]);
    case 1:
      return typed(1, [quantity(tx, "chainId", where), ...gasPriced(tx, where), accessList(tx, where), ...signature(tx, where)]);
    case 2:
      return dynamicFee(2, tx, where, recipient(tx, where), []);
    case 3:
      // Blob and set-code transactions cannot create a contract: `to` is required.
      return dynamicFee(3, tx, where, fixed(tx, "to", 20, where), [
        quantity(tx, "maxFeePerBlobGas", where),
        array(tx, "blobVersionedHashes", where).map((hash, i) => hashAt(hash, `${where}blobVersionedHashes[${i}]`)),
      ]);
    case 4:
      return dynamicFee(4, tx, where, fixed(tx, "to", 20, where), [
        array(tx, "authorizationList", where).map((entry, i) => authorization(object(entry, `${where}authorizationList[${i}]`), `${where}authorizationList[${i}].`)),
      ]);
    default:
      throw new UnreadableFieldError(`${where}type`, `transaction type ${type} is not one of Ethereum's (${KNOWN_TRANSACTION_TYPES.join(", ")}): it has no envelope to verify`);
  }
}

function typed(type: number, fields: Input[]): Uint8Array {
  const body = RLP.encode(fields);
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
}

/** The fields legacy and EIP-2930 transactions share, in their order. */
function gasPriced(tx: RpcObject, where: string): Uint8Array[] {
  return [quantity(tx, "nonce", where), quantity(tx, "gasPrice", where), quantity(tx, "gas", where), recipient(tx, where), quantity(tx, "value", where), data(tx, "input", where)];
}

/** EIP-1559 and the types built on it: their fields up to the access list, the type's own, then the signature. */
function dynamicFee(type: number, tx: RpcObject, where: string, to: Uint8Array, own: Input[]): Uint8Array {
  return typed(type, [
    quantity(tx, "chainId", where),
    quantity(tx, "nonce", where),
    quantity(tx, "maxPriorityFeePerGas", where),
    quantity(tx, "maxFeePerGas", where),
    quantity(tx, "gas", where),
    to,
    quantity(tx, "value", where),
    data(tx, "input", where),
    accessList(tx, where),
    ...own,
    ...signature(tx, where),
  ]);
}

/** y-parity, r, s of a typed transaction; nodes send yParity, older ones only v (0 or 1 for typed transactions). */
function signature(tx: RpcObject, where: string): [Uint8Array, Uint8Array, Uint8Array] {
  const parity = isAbsent(tx.yParity) ? quantity(tx, "v", where) : quantity(tx, "yParity", where);
  return [parity, quantity(tx, "r", where), quantity(tx, "s", where)];
}

function accessList(tx: RpcObject, where: string): Input[] {
  // A node may leave out an empty access list.
  if (isAbsent(tx.accessList)) return [];
  return array(tx, "accessList", where).map((entry, i) => {
    const at = `${where}accessList[${i}]`;
    const item = object(entry, at);
    return [fixed(item, "address", 20, `${at}.`), array(item, "storageKeys", `${at}.`).map((key, k) => hashAt(key, `${at}.storageKeys[${k}]`))];
  });
}

function authorization(entry: RpcObject, where: string): Input[] {
  const parity = isAbsent(entry.yParity) ? quantity(entry, "v", where) : quantity(entry, "yParity", where);
  return [quantity(entry, "chainId", where), fixed(entry, "address", 20, where), quantity(entry, "nonce", where), parity, quantity(entry, "r", where), quantity(entry, "s", where)];
}

/** A 32-byte hash inside a list, named by its place in the transaction. */
function hashAt(value: unknown, field: string): Uint8Array {
  return fixed({ [field]: value }, field, 32);
}
