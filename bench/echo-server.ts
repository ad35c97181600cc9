// The latency phase's machine floor: a Node TCP server that answers every size-prefixed request frame at once
// with a small frame carrying its correlation id, doing nothing else. Run as its own process with the broker's
// runtime, it shows what request/response latency this machine gives before any broker work.
//   node dist/bench/echo-server.js   (prints "listening <port>", stops on SIGTERM)
import net from 'node:net';

const RESPONSE_BODY_BYTES = 64;

const server = net.createServer({ noDelay: true }, (socket) => {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= 4) {
      const frameBytes = pending.readInt32BE(at);
      if (pending.length - at - 4 < frameBytes) break;
      const response = Buffer.alloc(8 + RESPONSE_BODY_BYTES);
      response.writeInt32BE(4 + RESPONSE_BODY_BYTES, 0);
      // Request header: apiKey (2), apiVersion (2), correlationId (4).
      response.writeInt32BE(pending.readInt32BE(at + 8), 4);
      socket.write(response);
      at += 4 + frameBytes;
    }
    pending = pending.subarray(at);
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
