/** cluster-key-slot (the slot hash ioredis itself uses) ships no types. */
declare module 'cluster-key-slot' {
  /** CRC16 of the key's hash tag (or the whole key) modulo 16384: the Redis Cluster slot. */
  export default function calculateSlot(key: string | Buffer): number;
}
