// Types for the CommonJS sse4_crc32 package (it ships none): the part crc.ts uses.
declare module 'sse4_crc32' {
  /** CRC-32C of `input`, continuing from `initialCrc` (default 0); an unsigned 32-bit number. */
  function calculate(input: Buffer | string, initialCrc?: number): number;
  const sse4Crc32: { calculate: typeof calculate; hardware_support: boolean };
  export default sse4Crc32;
}
