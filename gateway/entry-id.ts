/**
 * Order of Redis stream entry ids ("<ms>-<seq>"). String comparison is wrong ("9-0" > "10-0"), and the parts can
 * exceed 2^53 in principle, so they are compared as BigInt.
 */
export function compareEntryIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
