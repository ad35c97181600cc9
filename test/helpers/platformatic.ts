// Loads @platformatic/kafka on this Node 20. The client declares Node >= 22 and calls Promise.withResolvers,
// which Node 20 lacks, so a minimal stand-in goes in first. (Its zstd needs Node 22's zlib: not usable here.)
export async function loadPlatformatic(): Promise<typeof import('@platformatic/kafka')> {
  if (!('withResolvers' in Promise)) {
    Object.defineProperty(Promise, 'withResolvers', {
      value: () => {
        let resolve!: (value: unknown) => void;
        let reject!: (reason: unknown) => void;
        const promise = new Promise((onResolve, onReject) => {
          resolve = onResolve;
          reject = onReject;
        });
        return { promise, resolve, reject };
      },
    });
  }
  return import('@platformatic/kafka');
}
